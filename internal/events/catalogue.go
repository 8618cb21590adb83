package events

import (
	"time"

	"github.com/google/uuid"
)

// Topic names an event type, "<domain>.<entity>.<verb>".
type Topic string

// Event is one entry of the catalogue below. The unexported method seals the
// interface: only types declared in this package can be published, so a
// topic missing from the catalogue does not compile.
type Event interface {
	Topic() Topic
	// Version is the payload's schema version, bumped on incompatible change.
	Version() int
	isEvent()
}

// v1 marks a catalogue payload at schema version 1 and seals it into Event.
type v1 struct{}

func (v1) Version() int { return 1 }
func (v1) isEvent()     {}

// The catalogue. Payloads are JSON; field names are part of the stored log,
// so rename nothing, add freely, and bump Version on incompatible change.
const (
	TopicUserRegistered   Topic = "identity.user.registered"
	TopicUserLoggedIn     Topic = "identity.user.logged_in"
	TopicSessionRevoked   Topic = "identity.session.revoked"
	TopicPasswordChanged  Topic = "identity.password.changed"
	TopicProfileUpdated   Topic = "user.profile.updated"
	TopicSettingsUpdated  Topic = "user.settings.updated"
	TopicRoleChanged      Topic = "user.role.changed"
	TopicUserDeleted      Topic = "user.deleted"
	TopicUserVerified     Topic = "user.verified"
	TopicUserBanned       Topic = "user.banned"
	TopicPostCreated      Topic = "content.post.created"
	TopicPostUpdated      Topic = "content.post.updated"
	TopicPostDeleted      Topic = "content.post.deleted"
	TopicPostModerated    Topic = "content.post.moderated"
	TopicCommentCreated   Topic = "content.comment.created"
	TopicCommentDeleted   Topic = "content.comment.deleted"
	TopicArticlePublished Topic = "content.article.published"
	TopicFollowCreated    Topic = "social.follow.created"
	TopicFollowDeleted    Topic = "social.follow.deleted"
	TopicBlockCreated     Topic = "social.block.created"
	TopicBlockDeleted     Topic = "social.block.deleted"
	TopicLikeCreated      Topic = "social.like.created"
	TopicLikeDeleted      Topic = "social.like.deleted"
	TopicShareCreated     Topic = "social.share.created"
	TopicFeedUpdated      Topic = "social.feed.updated"
	TopicUploadCompleted  Topic = "media.upload.completed"
	TopicMediaProcessed   Topic = "media.processed"
	TopicMediaTranscoded  Topic = "media.transcoded"
	TopicMediaDeleted     Topic = "media.deleted"
	TopicMessageSent      Topic = "communication.message.sent"
	TopicNotificationSent Topic = "communication.notification.sent"
)

// UserRegistered: identity created credentials and a first session.
type UserRegistered struct {
	v1
	UserID      uuid.UUID `json:"userId"`
	Email       string    `json:"email"`
	Username    string    `json:"username"`
	DisplayName string    `json:"displayName"`
}

// UserLoggedIn: a session was opened by a successful login.
type UserLoggedIn struct {
	v1
	UserID    uuid.UUID `json:"userId"`
	SessionID uuid.UUID `json:"sessionId"`
}

// SessionRevoked: sessions ended (logout, reuse of a rotated refresh token, ban).
type SessionRevoked struct {
	v1
	UserID     uuid.UUID   `json:"userId"`
	SessionIDs []uuid.UUID `json:"sessionIds"`
	Reason     string      `json:"reason"`
}

// PasswordChanged: the password was changed; other sessions were revoked.
type PasswordChanged struct {
	v1
	UserID uuid.UUID `json:"userId"`
}

// ProfileUpdated carries the whole public profile after the change.
type ProfileUpdated struct {
	v1
	UserID        uuid.UUID  `json:"userId"`
	Username      string     `json:"username"`
	DisplayName   string     `json:"displayName"`
	Bio           string     `json:"bio"`
	AvatarMediaID *uuid.UUID `json:"avatarMediaId,omitempty"`
}

// SettingsUpdated carries the settings after the change.
type SettingsUpdated struct {
	v1
	UserID             uuid.UUID `json:"userId"`
	IsPrivate          bool      `json:"isPrivate"`
	EmailNotifications bool      `json:"emailNotifications"`
	PushNotifications  bool      `json:"pushNotifications"`
}

// RoleChanged: an admin assigned a role.
type RoleChanged struct {
	v1
	UserID uuid.UUID `json:"userId"`
	Role   string    `json:"role"`
	By     uuid.UUID `json:"by"`
}

// UserDeleted: the account is gone; projections drop what they hold of it.
type UserDeleted struct {
	v1
	UserID uuid.UUID `json:"userId"`
}

// UserVerified: an admin verified the account.
type UserVerified struct {
	v1
	UserID uuid.UUID `json:"userId"`
}

// UserBanned: a moderator banned the account; identity revokes its sessions.
type UserBanned struct {
	v1
	UserID uuid.UUID `json:"userId"`
	Reason string    `json:"reason"`
	By     uuid.UUID `json:"by"`
}

// PostCreated carries what consumers need to fan out, index and notify.
type PostCreated struct {
	v1
	PostID     uuid.UUID   `json:"postId"`
	AuthorID   uuid.UUID   `json:"authorId"`
	Body       string      `json:"body"`
	Visibility string      `json:"visibility"`
	Tags       []string    `json:"tags"`
	Mentions   []string    `json:"mentions"`
	MediaIDs   []uuid.UUID `json:"mediaIds"`
	CreatedAt  time.Time   `json:"createdAt"`
	// MentionIDs are the ids of the mentioned users that exist, are not
	// banned and may read the post or comment.
	MentionIDs []uuid.UUID `json:"mentionIds,omitempty"`
}

// PostUpdated carries the post after an edit.
type PostUpdated struct {
	v1
	PostID     uuid.UUID `json:"postId"`
	AuthorID   uuid.UUID `json:"authorId"`
	Body       string    `json:"body"`
	Visibility string    `json:"visibility"`
	Tags       []string  `json:"tags"`
	Mentions   []string  `json:"mentions"`
	EditedAt   time.Time `json:"editedAt"`
	// MentionIDs are the ids of the mentioned users that exist, are not
	// banned and may read the post or comment.
	MentionIDs []uuid.UUID `json:"mentionIds,omitempty"`
}

// PostDeleted: the post is gone for everyone.
type PostDeleted struct {
	v1
	PostID   uuid.UUID `json:"postId"`
	AuthorID uuid.UUID `json:"authorId"`
}

// PostModerated: a moderator hid or restored a post.
type PostModerated struct {
	v1
	PostID   uuid.UUID `json:"postId"`
	AuthorID uuid.UUID `json:"authorId"`
	Hidden   bool      `json:"hidden"`
	By       uuid.UUID `json:"by"`
}

// CommentCreated carries what notification and counters need.
type CommentCreated struct {
	v1
	CommentID    uuid.UUID  `json:"commentId"`
	PostID       uuid.UUID  `json:"postId"`
	PostAuthorID uuid.UUID  `json:"postAuthorId"`
	AuthorID     uuid.UUID  `json:"authorId"`
	ParentID     *uuid.UUID `json:"parentId,omitempty"`
	Body         string     `json:"body"`
	Mentions     []string   `json:"mentions"`
	CreatedAt    time.Time  `json:"createdAt"`
	// MentionIDs are the ids of the mentioned users that exist, are not
	// banned and may read the post or comment.
	MentionIDs []uuid.UUID `json:"mentionIds,omitempty"`
}

// CommentDeleted: a comment is gone.
type CommentDeleted struct {
	v1
	CommentID uuid.UUID `json:"commentId"`
	PostID    uuid.UUID `json:"postId"`
}

// ArticlePublished: a draft became public.
type ArticlePublished struct {
	v1
	ArticleID   uuid.UUID `json:"articleId"`
	AuthorID    uuid.UUID `json:"authorId"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	PublishedAt time.Time `json:"publishedAt"`
}

// FollowCreated: a follow or a follow request. State is FOLLOWING or REQUESTED.
type FollowCreated struct {
	v1
	FollowerID uuid.UUID `json:"followerId"`
	FolloweeID uuid.UUID `json:"followeeId"`
	State      string    `json:"state"`
	At         time.Time `json:"at"`
}

// FollowDeleted: an unfollow, a rejected request or a follow removed by a block.
type FollowDeleted struct {
	v1
	FollowerID uuid.UUID `json:"followerId"`
	FolloweeID uuid.UUID `json:"followeeId"`
	At         time.Time `json:"at"`
}

// BlockCreated: the blocker no longer sees or hears from the blocked user.
type BlockCreated struct {
	v1
	BlockerID uuid.UUID `json:"blockerId"`
	BlockedID uuid.UUID `json:"blockedId"`
	At        time.Time `json:"at"`
}

// BlockDeleted: the block was lifted.
type BlockDeleted struct {
	v1
	BlockerID uuid.UUID `json:"blockerId"`
	BlockedID uuid.UUID `json:"blockedId"`
	At        time.Time `json:"at"`
}

// LikeCreated: a user liked a post.
type LikeCreated struct {
	v1
	PostID       uuid.UUID `json:"postId"`
	PostAuthorID uuid.UUID `json:"postAuthorId"`
	UserID       uuid.UUID `json:"userId"`
}

// LikeDeleted: a like was withdrawn.
type LikeDeleted struct {
	v1
	PostID uuid.UUID `json:"postId"`
	UserID uuid.UUID `json:"userId"`
}

// ShareCreated: a user shared a post.
type ShareCreated struct {
	v1
	ShareID      uuid.UUID `json:"shareId"`
	PostID       uuid.UUID `json:"postId"`
	PostAuthorID uuid.UUID `json:"postAuthorId"`
	UserID       uuid.UUID `json:"userId"`
	Comment      string    `json:"comment,omitempty"`
}

// FeedUpdated: a post entered a user's home feed.
type FeedUpdated struct {
	v1
	UserID uuid.UUID `json:"userId"`
	PostID uuid.UUID `json:"postId"`
}

// UploadCompleted: media bytes are stored and processing starts.
type UploadCompleted struct {
	v1
	MediaID  uuid.UUID `json:"mediaId"`
	OwnerID  uuid.UUID `json:"ownerId"`
	MimeType string    `json:"mimeType"`
	Size     int64     `json:"size"`
}

// MediaProcessed: metadata and thumbnails are ready.
type MediaProcessed struct {
	v1
	MediaID uuid.UUID `json:"mediaId"`
	OwnerID uuid.UUID `json:"ownerId"`
	Status  string    `json:"status"`
}

// MediaTranscoded: a video's playable variants are ready.
type MediaTranscoded struct {
	v1
	MediaID uuid.UUID `json:"mediaId"`
	OwnerID uuid.UUID `json:"ownerId"`
}

// MediaDeleted: the media and its variants are gone.
type MediaDeleted struct {
	v1
	MediaID uuid.UUID `json:"mediaId"`
	OwnerID uuid.UUID `json:"ownerId"`
}

// MessageSent: a direct message was stored.
type MessageSent struct {
	v1
	MessageID      uuid.UUID   `json:"messageId"`
	ConversationID uuid.UUID   `json:"conversationId"`
	SenderID       uuid.UUID   `json:"senderId"`
	RecipientIDs   []uuid.UUID `json:"recipientIds"`
}

// NotificationSent: a notification was created for a user.
type NotificationSent struct {
	v1
	NotificationID uuid.UUID `json:"notificationId"`
	UserID         uuid.UUID `json:"userId"`
	Type           string    `json:"type"`
}

func (UserRegistered) Topic() Topic   { return TopicUserRegistered }
func (UserLoggedIn) Topic() Topic     { return TopicUserLoggedIn }
func (SessionRevoked) Topic() Topic   { return TopicSessionRevoked }
func (PasswordChanged) Topic() Topic  { return TopicPasswordChanged }
func (ProfileUpdated) Topic() Topic   { return TopicProfileUpdated }
func (SettingsUpdated) Topic() Topic  { return TopicSettingsUpdated }
func (RoleChanged) Topic() Topic      { return TopicRoleChanged }
func (UserDeleted) Topic() Topic      { return TopicUserDeleted }
func (UserVerified) Topic() Topic     { return TopicUserVerified }
func (UserBanned) Topic() Topic       { return TopicUserBanned }
func (PostCreated) Topic() Topic      { return TopicPostCreated }
func (PostUpdated) Topic() Topic      { return TopicPostUpdated }
func (PostDeleted) Topic() Topic      { return TopicPostDeleted }
func (PostModerated) Topic() Topic    { return TopicPostModerated }
func (CommentCreated) Topic() Topic   { return TopicCommentCreated }
func (CommentDeleted) Topic() Topic   { return TopicCommentDeleted }
func (ArticlePublished) Topic() Topic { return TopicArticlePublished }
func (FollowCreated) Topic() Topic    { return TopicFollowCreated }
func (FollowDeleted) Topic() Topic    { return TopicFollowDeleted }
func (BlockCreated) Topic() Topic     { return TopicBlockCreated }
func (BlockDeleted) Topic() Topic     { return TopicBlockDeleted }
func (LikeCreated) Topic() Topic      { return TopicLikeCreated }
func (LikeDeleted) Topic() Topic      { return TopicLikeDeleted }
func (ShareCreated) Topic() Topic     { return TopicShareCreated }
func (FeedUpdated) Topic() Topic      { return TopicFeedUpdated }
func (UploadCompleted) Topic() Topic  { return TopicUploadCompleted }
func (MediaProcessed) Topic() Topic   { return TopicMediaProcessed }
func (MediaTranscoded) Topic() Topic  { return TopicMediaTranscoded }
func (MediaDeleted) Topic() Topic     { return TopicMediaDeleted }
func (MessageSent) Topic() Topic      { return TopicMessageSent }
func (NotificationSent) Topic() Topic { return TopicNotificationSent }
