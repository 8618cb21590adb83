// Package social owns follows, blocks, likes, shares and home feeds.
//
//nova:domain social schema=social deps=content,user,events
package social
