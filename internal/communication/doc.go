// Package communication owns conversations, messages, notifications and the email, SMS and push queues.
//
//nova:domain communication schema=communication deps=user,events
package communication
