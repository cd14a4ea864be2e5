package dingclient

// CreateGroupRequest is the body of POST /v1.0/im/group/create.
//
// Field names and types follow DingTalk's create-group API page exactly; optional
// fields are pointers or omitempty so that "not given" stays distinguishable from
// an explicit zero (DingTalk treats some absent fields differently from 0).
type CreateGroupRequest struct {
	// Name is the group name, 1–20 characters.
	Name string `json:"name"`
	// Owner is the userId (staffId) of the group owner; it must also be in UserIDs.
	Owner string `json:"owner"`
	// OwnerType is "emp" (organisation employee) or "ext" (external contact); empty omits it.
	OwnerType string `json:"ownerType,omitempty"`
	// UserIDs are the staffIds of the members (useridlist), owner included.
	UserIDs []string `json:"useridlist"`
	// ConversationTag is 2 for an internal group (DingTalk's default) or 0 for a standard group.
	ConversationTag *int64 `json:"conversationTag,omitempty"`
	// ExtIDs are external contacts (extidlist), identified by unionId.
	ExtIDs []string `json:"extidlist,omitempty"`
	// Icon is the group picture as a mediaId from the upload-media API.
	Icon string `json:"icon,omitempty"`
	// ManagementOptions are the group's additional settings; nil omits the object.
	ManagementOptions *ManagementOptions `json:"managementOptions,omitempty"`
}

// ManagementOptions are the six optional group settings of the create-group API.
// A nil field is left out of the request, so DingTalk applies its own default.
type ManagementOptions struct {
	// MentionAllAuthority: 0 everyone may @all (default), 1 only the owner.
	MentionAllAuthority *int32 `json:"mentionAllAuthority,omitempty"`
	// ShowHistoryType: 1 new members see the last 100 messages, 0 they do not (default).
	ShowHistoryType *int32 `json:"showHistoryType,omitempty"`
	// ValidationType: 0 anyone may join (default), 1 joining needs approval.
	ValidationType *int32 `json:"validationType,omitempty"`
	// Searchable: 0 not searchable (default), 1 searchable.
	Searchable *int32 `json:"searchable,omitempty"`
	// ChatBannedType: 0 not muted (default), 1 everyone muted.
	ChatBannedType *int32 `json:"chatBannedType,omitempty"`
	// ManagementType: 0 everyone may manage (default), 1 only the owner.
	ManagementType *int32 `json:"managementType,omitempty"`
}

// CreateGroupResponse is the success body of POST /v1.0/im/group/create.
type CreateGroupResponse struct {
	// ConversationTag is 0 (standard group) or 2 (internal group).
	ConversationTag int64 `json:"conversationTag"`
	// OpenConversationID identifies the group in the v1.0 APIs.
	OpenConversationID string `json:"openConversationId"`
	// ChatID is the legacy group ID, still used by the update and legacy query APIs.
	ChatID string `json:"chatid"`
}

// Conversation tags of the create-group API.
const (
	// ConversationTagStandard is a standard group (needs DingTalk support to allow-list the app).
	ConversationTagStandard int64 = 0
	// ConversationTagInternal is an internal group, DingTalk's default.
	ConversationTagInternal int64 = 2
)

// Owner types of the create-group API.
const (
	// OwnerTypeEmployee is an employee of the organisation.
	OwnerTypeEmployee = "emp"
	// OwnerTypeExternal is an external contact.
	OwnerTypeExternal = "ext"
)

// UpdateGroupRequest is what POST /v1.0/im/group/update changes; empty fields are left out.
type UpdateGroupRequest struct {
	// ChatID is the group's chatid, as CreateGroup returned it.
	ChatID string `json:"chatid"`
	// Name is the new group name, 1–20 characters.
	Name string `json:"name,omitempty"`
	// Owner is the userId (staffId) of the new owner; it must already be a member.
	Owner string `json:"owner,omitempty"`
	// AddUserIDs are the staffIds to add (add_useridlist), at most MaxMembersPerCall.
	AddUserIDs []string `json:"add_useridlist,omitempty"`
	// DelUserIDs are the staffIds to remove (del_useridlist), at most MaxMembersPerCall; never the owner.
	DelUserIDs []string `json:"del_useridlist,omitempty"`
}
