// Package hop carries social one import further. // want package:"reaches\\(social\\)"
package hop

import _ "example.com/nova/pkg/relay"
