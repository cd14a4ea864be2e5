package commands

import "fmt"

// This file is the message catalogue: every sentence a person can read comes
// from here, looked up by message ID. Format strings use explicit argument
// indexes (%[1]s) so that a translation may reorder them. To add a language,
// write another func(msgID) string next to englishText and chineseText
// (messages_zh.go) and select it in catalogueFor; TestCatalogueComplete checks
// that no ID is left without text in any language.

// msgID identifies one user-visible text of the catalogue.
type msgID int

const (
	// Generic.
	msgNotCommand msgID = iota
	msgNonText
	msgUnknownCommand
	msgDidYouMean
	msgTypeHelp
	msgInternal
	msgUsageLine
	msgExampleLine
	msgMoreHelp
	msgOr
	msgAnd
	msgListSep

	// Tokenising.
	msgUnclosedQuote
	msgApostropheHint
	msgTrailingBackslash
	msgUnreadable

	// Option parsing.
	msgUnknownOption
	msgMissingValue
	msgBadChoice
	msgRepeatedOption
	msgFlagTakesNoValue
	msgConflictingOptions

	// Help rendering.
	msgHelpCommands
	msgHelpFooter
	msgHelpAliases
	msgHelpOptions
	msgHelpExamples
	msgHelpAlsoOption
	msgHelpRepeatable
	msgHelpUnknownCommand
	msgHelpTooManyArgs
	msgHelpTemplates
	msgHelpNoTemplates
	msgHelpTemplatesFooter

	// /help definition.
	msgHelpSummary
	msgHelpUsage
	msgHelpDescription
	msgHelpOptHelp

	// /newgroup definition.
	msgNewGroupSummary
	msgNewGroupUsage
	msgNewGroupDescription
	msgOptOwner
	msgOptOwnerType
	msgOptType
	msgOptStandard
	msgOptInternal
	msgOptExt
	msgOptIcon
	msgOptMentionAll
	msgOptHistory
	msgOptApproval
	msgOptSearchable
	msgOptMute
	msgOptManage
	msgOptDryRun
	msgOptTemplate

	// /newgroup validation.
	msgExternalSender
	msgNameMissing
	msgNameTooLong
	msgNameControl
	msgTooManyNames
	msgMentionOutsideOne
	msgMentionOutsideMany
	msgMentionsOutsideCountOne
	msgMentionsOutsideCountMany
	msgUnresolvedDirect
	msgUnresolvedGroup
	msgMentionCountMismatch
	msgOwnerAmbiguous
	msgOwnerValue
	msgBadUserID
	msgBadExtID
	msgBadIcon
	msgTooManyMembers
	msgTooManyExt
	msgExtNeedsStandard
	msgOwnerExtNeedsStandard
	msgUnknownTemplate
	msgSeeTemplates
	msgNoTemplates
	msgOwnerNotOne
	msgBadPerson
	msgTooManyPeople

	// Resolving people (Language.Complete).
	msgUnresolvedIntro
	msgNotFoundMobile
	msgNotFoundName
	msgAmbiguous
	msgUnresolvedFix
	msgQuoteHint
	msgLookupFailed
	msgLookupScope
	msgLookupRetry
	msgMore

	// Outcome replies.
	msgCreated
	msgCreatedType
	msgCreatedOwner
	msgCreatedMembers
	msgCreatedExternal
	msgCreatedOpenConversationID
	msgCreatedChatID
	msgGroupInternal
	msgGroupStandard
	msgGroupTagOther
	msgFailVisibility
	msgFailPermissionCheck
	msgFailParameter
	msgFailMaybeCreated
	msgFailThrottled
	msgFailInvalidToken
	msgFailScope
	msgFailCredentials
	msgFailIPWhitelist
	msgFailMonthlyQuota
	msgFailOtherCode
	msgFailOtherStatus
	msgFailTimeout
	msgFailCanceled
	msgFailUnreachable
	msgRequestID
	msgTheOwner
	msgCreatedMembersNamed
	msgNotAdded

	// Dry run.
	msgDryRunTitle
	msgDryRunName
	msgDryRunType
	msgDryRunOwnerType
	msgDryRunMembers
	msgDryRunLarge
	msgDryRunExternal
	msgDryRunIcon
	msgDryRunOption
	msgDryRunNone
	msgDryRunDefault
	msgDryRunTemplate
	msgDryRunPending
	msgDryRunRequest
	msgDryRunAgain
	msgValueYes
	msgValueNo
	msgValueEveryone
	msgValueOwner
	msgValueEmp
	msgValueExt

	// /groups.
	msgGroupsSummary
	msgGroupsUsage
	msgGroupsDescription
	msgOptPage
	msgOptAll
	msgGroupsExtraWord
	msgGroupsExternal
	msgGroupsBadPage
	msgGroupsTitle
	msgGroupsTitleAll
	msgGroupsItem
	msgGroupsItemBy
	msgGroupsNextPage
	msgGroupsNone
	msgGroupsNoneAll
	msgGroupsNoSuchPage
	msgGroupsAdminOnly
	msgGroupsFailed

	// Access control (package access).
	msgAccessContact
	msgAccessConversations
	msgAccessUsers
	msgAccessDepartments
	msgAccessUsersOrDepartments
	msgAccessStandardGroups
	msgAccessOwnerOverride
	msgAccessRatePerUser
	msgAccessRatePerConversation
	msgAccessLookupFailed
	msgAccessSecond
	msgAccessSeconds
	msgAccessMinute
	msgAccessMinutes
	msgAccessHour
	msgAccessHours
	msgAccessDay
	msgAccessDays
	msgAccessPeriodCount
	msgAccessDuration

	msgCount // number of IDs; keep last
)

// englishText is the English catalogue.
func englishText(id msgID) string {
	switch id {
	case msgNotCommand:
		return "I understand commands that start with /. Try /help."
	case msgNonText:
		return "I can only read text messages. Type a command such as /newgroup, or /help to see them all."
	case msgUnknownCommand:
		return "I don't know the command %[1]s."
	case msgDidYouMean:
		return "Did you mean %[1]s?"
	case msgTypeHelp:
		return "Type /help to see what I can do."
	case msgInternal:
		return "Something went wrong on my side while reading that command. Please try again, or type /help."
	case msgUsageLine:
		return "Usage: %[1]s"
	case msgExampleLine:
		return "Example: %[1]s"
	case msgMoreHelp:
		return "All options: /help %[1]s"
	case msgOr:
		return " or "
	case msgAnd:
		return " and "
	case msgListSep:
		return ", "

	case msgUnclosedQuote:
		return "The quote %[1]s at column %[2]d is never closed."
	case msgApostropheHint:
		return "If it is an apostrophe (as in Bob's), put the whole name in double quotes, like \"Bob's group\"."
	case msgTrailingBackslash:
		return "The line ends with a backslash (column %[1]d); a backslash must be followed by the character it protects."
	case msgUnreadable:
		return "I couldn't split that command into words."

	case msgUnknownOption:
		return "I don't know the option %[1]s."
	case msgMissingValue:
		return "%[1]s needs a value: %[2]s."
	case msgBadChoice:
		return "%[1]s doesn't accept %[2]q: expected %[3]s."
	case msgRepeatedOption:
		return "%[1]s is given more than once; give it once."
	case msgFlagTakesNoValue:
		return "%[1]s takes no value; write just %[1]s."
	case msgConflictingOptions:
		return "%[1]s and %[2]s contradict each other; choose one."

	case msgHelpCommands:
		return "Commands:"
	case msgHelpFooter:
		return "Type /help COMMAND for details, for example /help %[1]s."
	case msgHelpAliases:
		return "Also: %[1]s"
	case msgHelpOptions:
		return "Options (anywhere after the command, as --option value or --option=value):"
	case msgHelpExamples:
		return "Examples:"
	case msgHelpAlsoOption:
		return "(also %[1]s)"
	case msgHelpRepeatable:
		return "(may be repeated)"
	case msgHelpUnknownCommand:
		return "There is no command called %[1]s."
	case msgHelpTooManyArgs:
		return "/help takes at most one command name."
	case msgHelpTemplates:
		return "Templates (use one as /newgroup --template NAME \"Group name\"):"
	case msgHelpNoTemplates:
		return "No templates are configured. An admin can add them to the bot's configuration file; then /newgroup --template NAME fills in their people and options."
	case msgHelpTemplatesFooter:
		return "Templates for /newgroup: /help templates"

	case msgHelpSummary:
		return "List the commands, or explain one command."
	case msgHelpUsage:
		return "[COMMAND]"
	case msgHelpDescription:
		return "Without COMMAND, lists every command. With COMMAND, shows its options and examples, the same as COMMAND --help."
	case msgHelpOptHelp:
		return "Show this help."

	case msgNewGroupSummary:
		return "Create a DingTalk group with you as owner and the people you @mention as members."
	case msgNewGroupUsage:
		return "NAME [@member ...] [userid:ID ...] [options]"
	case msgNewGroupDescription:
		return "NAME is 1 to 20 characters; put it in quotes if it has spaces. " +
			"You become the owner, and everyone you @mention becomes a member. " +
			"You can also name people by an alias from the bot's configuration (@release-team), a mobile number (13800000000), " +
			"userid:ID, or their name exactly as in the address book; that is how to name people in a one-to-one chat with me. " +
			"At most 1000 people including you; beyond 40, I add the others right after creating the group. " +
			"Write -- before a NAME that starts with a dash. " +
			"The group is an internal group (organisation members only) unless you ask for a standard group."
	case msgOptOwner:
		return "Make someone else the owner; you stay a member."
	case msgOptOwnerType:
		return "Whether the owner is an employee (emp, the default) or an external contact (ext; needs a standard group)."
	case msgOptType:
		return "Group type: internal (organisation members only, the default) or standard (needs DingTalk support to allow-list this app)."
	case msgOptStandard:
		return "Same as --type standard."
	case msgOptInternal:
		return "Same as --type internal."
	case msgOptExt:
		return "Add external contacts by unionId, separated by commas; needs a standard group."
	case msgOptIcon:
		return "Group picture, as a mediaId from DingTalk's media upload."
	case msgOptMentionAll:
		return "Who may use @all (default: everyone)."
	case msgOptHistory:
		return "Whether new members see the last 100 messages (default: no)."
	case msgOptApproval:
		return "Whether joining needs approval (default: no)."
	case msgOptSearchable:
		return "Whether the group can be found by search (default: no)."
	case msgOptMute:
		return "Mute everyone but the owner (default: no)."
	case msgOptManage:
		return "Who may manage the group (default: everyone)."
	case msgOptDryRun:
		return "Look everyone up and check everything, then show exactly what would be sent to DingTalk, without creating the group."
	case msgOptTemplate:
		return "Start from a template of the bot's configuration: its people are added and its options are defaults that yours override (/help templates lists them)."

	case msgExternalSender:
		return "I can only create groups for members of this organisation, and DingTalk didn't tell me who you are (senderStaffId is missing). " +
			"This happens when you are outside the organisation, or when the robot is not published yet; an admin can publish it in the DingTalk developer console."
	case msgNameMissing:
		return "The group needs a name."
	case msgNameTooLong:
		return "The name %[1]q is %[2]d characters; the limit is %[3]d."
	case msgNameControl:
		return "The name %[1]q contains invisible control characters; type it again without them."
	case msgTooManyNames:
		return "I found more than one name: %[1]s. If the name has spaces, put it in quotes: %[2]s"
	case msgMentionOutsideOne:
		return "%[1]s is outside your organisation (DingTalk gives no user ID for them), so I can't add them; " +
			"remove the mention, or add them as an external contact with --ext UNIONID and --standard."
	case msgMentionOutsideMany:
		return "%[1]s are outside your organisation (DingTalk gives no user ID for them), so I can't add them; " +
			"remove the mentions, or add them as external contacts with --ext UNIONID and --standard."
	case msgMentionsOutsideCountOne:
		return "1 mentioned person has no user ID in this organisation, so I can't add them; " +
			"remove that mention, or add them as an external contact with --ext UNIONID and --standard."
	case msgMentionsOutsideCountMany:
		return "%[1]d mentioned people have no user ID in this organisation, so I can't add them; " +
			"remove those mentions, or add them as external contacts with --ext UNIONID and --standard."
	case msgUnresolvedDirect:
		return "I can't tell who %[1]s is: a one-to-one chat carries no @mentions. " +
			"Use a real @mention in a group chat, or write userid:ID."
	case msgUnresolvedGroup:
		return "%[1]s is not a real @mention, so I don't know who it is. " +
			"Pick the person from the list DingTalk shows after you type @, or write userid:ID."
	case msgMentionCountMismatch:
		return "You typed %[1]d @names but DingTalk marked only %[2]d of them as real mentions. " +
			"Pick each person from the list DingTalk shows after you type @, or write userid:ID."
	case msgOwnerAmbiguous:
		return "I can't tell which of the people you mentioned %[1]s refers to. Write --owner userid:ID instead."
	case msgOwnerValue:
		return "--owner needs an @mention or userid:ID, not %[1]q."
	case msgBadUserID:
		return "%[1]q is not a valid user ID; write userid: followed by the ID, like userid:manager4220."
	case msgBadExtID:
		return "%[1]q is not a valid external contact ID (a unionId)."
	case msgBadIcon:
		return "%[1]q is not a valid mediaId for --icon."
	case msgTooManyMembers:
		return "That is %[1]d people including the owner; I can add at most %[2]d when creating a group. " +
			"Create it with fewer people and add the others afterwards."
	case msgTooManyExt:
		return "That is %[1]d external contacts; I can add at most %[2]d when creating a group."
	case msgExtNeedsStandard:
		return "External contacts (--ext) can only join a standard group; add --standard " +
			"(standard groups need DingTalk support to allow-list this app)."
	case msgOwnerExtNeedsStandard:
		return "An external owner (--owner-type ext) needs a standard group; add --standard " +
			"(standard groups need DingTalk support to allow-list this app)."
	case msgUnknownTemplate:
		return "There is no template called %[1]q."
	case msgSeeTemplates:
		return "Type /help templates to see the templates."
	case msgNoTemplates:
		return "No templates are configured, so --template can't be used. Name the people and options in the command instead."
	case msgOwnerNotOne:
		return "--owner must be one person, but %[1]s stands for %[2]d people. Write one of them, like --owner userid:ID."
	case msgBadPerson:
		return "%[1]q is not a person I can look up: write @name, a mobile number such as 13800000000, or userid:ID."
	case msgTooManyPeople:
		return "That is %[1]d people including the owner; a group can have at most %[2]d."

	case msgUnresolvedIntro:
		return "I created nothing, because I couldn't tell who everyone is:"
	case msgNotFoundMobile:
		return "%[1]s: nobody in this organisation has the mobile number %[2]s."
	case msgNotFoundName:
		return "%[1]s: nobody in this organisation is called %[2]q."
	case msgAmbiguous:
		return "%[1]s matches %[2]d people: %[3]s."
	case msgUnresolvedFix:
		return "Write each of them as userid:ID (IDs are shown above), a mobile number, or their name exactly as in the address book, then send the command again."
	case msgQuoteHint:
		return "If %[1]s is part of the group name, put the whole name in quotes: %[2]s"
	case msgLookupFailed:
		return "I couldn't look up %[1]s in DingTalk, so I created nothing."
	case msgLookupScope:
		return "The app lacks the DingTalk permission %[1]s that looking people up needs. " +
			"An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app."
	case msgLookupRetry:
		return "Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."
	case msgMore:
		return "%[1]d more"

	case msgCreated:
		return "Created group %[1]q."
	case msgCreatedType:
		return "Type: %[1]s"
	case msgCreatedOwner:
		return "Owner: %[1]s"
	case msgCreatedMembers:
		return "Members: %[1]d"
	case msgCreatedExternal:
		return "External contacts: %[1]d"
	case msgCreatedOpenConversationID:
		return "openConversationId: %[1]s"
	case msgCreatedChatID:
		return "chatid: %[1]s"
	case msgGroupInternal:
		return "internal group"
	case msgGroupStandard:
		return "standard group"
	case msgGroupTagOther:
		return "conversationTag %[1]d"
	case msgFailVisibility:
		return "DingTalk refused: the owner (%[1]s) is outside this app's visibility scope. " +
			"An admin must add them in the DingTalk developer console → the app → Version management & release → Visibility (应用可见范围), then try again."
	case msgFailPermissionCheck:
		return "DingTalk refused: its permission check failed. Likely causes: the app lacks the qyapi_chat_manage permission; " +
			"a standard group needs DingTalk support to allow-list the app; or a member is outside the app's visibility scope. " +
			"Ask an admin to check the app in the DingTalk developer console."
	case msgFailParameter:
		return "DingTalk rejected a parameter of the request. Check the name (1 to 20 characters), the user IDs, " +
			"the --icon mediaId and the --ext unionIds, and the other options, then try again."
	case msgFailMaybeCreated:
		return "DingTalk failed while creating the group; it MAY have been created. " +
			"Check your group list before trying again, so that you don't end up with two groups."
	case msgFailThrottled:
		return "DingTalk is rate-limiting this app right now. Try again in a minute."
	case msgFailInvalidToken:
		return "DingTalk rejected the bot's credentials, so the group was not created. " +
			"Ask an admin to check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET."
	case msgFailScope:
		return "The app lacks the DingTalk permission %[1]s, so the group was not created. " +
			"An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app."
	case msgFailCredentials:
		return "DingTalk says the bot's client ID or secret is wrong, so the group was not created. " +
			"Ask an admin to check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET."
	case msgFailIPWhitelist:
		return "DingTalk refused the call because the bot's server IP address is not on the app's IP allow-list. " +
			"An admin can add it in the DingTalk developer console → the app → Security settings."
	case msgFailMonthlyQuota:
		return "This organisation has used up its monthly DingTalk API quota, so the group was not created. " +
			"An admin can buy more calls, or wait for next month."
	case msgFailOtherCode:
		return "DingTalk refused to create the group (code %[1]s)."
	case msgFailOtherStatus:
		return "DingTalk refused to create the group (HTTP status %[1]d)."
	case msgFailTimeout:
		return "DingTalk did not answer in time; the group MAY have been created. " +
			"Check your group list before trying again, so that you don't end up with two groups."
	case msgFailCanceled:
		return "The request was interrupted (the bot may be restarting); the group MAY have been created. " +
			"Check your group list before trying again."
	case msgFailUnreachable:
		return "I could not reach DingTalk, so the group was not created. Try again in a few minutes; " +
			"if it keeps failing, ask an admin to check the bot's logs."
	case msgRequestID:
		return "DingTalk request ID: %[1]s"
	case msgTheOwner:
		return "the owner"
	case msgCreatedMembersNamed:
		return "Members: %[1]d (%[2]s)"
	case msgNotAdded:
		return "I couldn't add %[1]d of them after creating the group: %[2]s. The group owner can add them in the group settings."

	case msgDryRunTitle:
		return "Dry run: nothing was created. This is what I would send to DingTalk:"
	case msgDryRunName:
		return "Name (name): %[1]q"
	case msgDryRunType:
		return "Type (conversationTag): %[1]s, %[2]d"
	case msgDryRunOwnerType:
		return "Owner type (ownerType): %[1]s"
	case msgDryRunMembers:
		return "Members (useridlist, %[1]d): %[2]s"
	case msgDryRunLarge:
		return "DingTalk takes at most %[1]d members when creating a group, so I would create it with the first %[1]d and then add the other %[2]d."
	case msgDryRunExternal:
		return "External contacts (extidlist): %[1]s"
	case msgDryRunIcon:
		return "Icon (icon): %[1]s"
	case msgDryRunOption:
		return "%[1]s (%[2]s): %[3]s"
	case msgDryRunNone:
		return "none"
	case msgDryRunDefault:
		return "not sent (DingTalk's default: %[1]s)"
	case msgDryRunTemplate:
		return "Template: %[1]s"
	case msgDryRunPending:
		return "Still to look up in DingTalk: %[1]s"
	case msgDryRunRequest:
		return "Request body of POST /v1.0/im/group/create:"
	case msgDryRunAgain:
		return "Send the same command without --dry-run to create the group."
	case msgValueYes:
		return "yes"
	case msgValueNo:
		return "no"
	case msgValueEveryone:
		return "everyone"
	case msgValueOwner:
		return "owner only"
	case msgValueEmp:
		return "employee (emp)"
	case msgValueExt:
		return "external contact (ext)"

	case msgGroupsSummary:
		return "List the groups you created through me, newest first."
	case msgGroupsUsage:
		return "[--page N] [--all]"
	case msgGroupsDescription:
		return "Shows %[1]d groups per page: the name, how many members it was created with, when it was created (UTC) and its openConversationId. " +
			"--all lists the groups everyone created through me; only admins may use it."
	case msgOptPage:
		return "Which page to show; page 1 has the newest groups."
	case msgOptAll:
		return "List the groups everyone created through me, not only yours (admins only)."
	case msgGroupsExtraWord:
		return "/groups takes only options, so I don't know what %[1]q means."
	case msgGroupsExternal:
		return "I can only list groups for members of this organisation, and DingTalk didn't tell me who you are (senderStaffId is missing)."
	case msgGroupsBadPage:
		return "--page needs a page number (1, 2, ...), not %[1]q."
	case msgGroupsTitle:
		return "Groups you created through me (page %[1]d of %[2]d, %[3]d in all):"
	case msgGroupsTitleAll:
		return "Groups created through me by everyone (page %[1]d of %[2]d, %[3]d in all):"
	case msgGroupsItem:
		return "%[1]d. %[2]q, %[3]d members, created %[4]s"
	case msgGroupsItemBy:
		return "%[1]d. %[2]q, %[3]d members, created %[4]s by %[5]s"
	case msgGroupsNextPage:
		return "More: %[1]s"
	case msgGroupsNone:
		return "You haven't created any groups through me yet. Create one with /newgroup NAME @people."
	case msgGroupsNoneAll:
		return "Nobody has created a group through me yet."
	case msgGroupsNoSuchPage:
		return "There is no page %[1]d: there are %[2]d. The last one: %[3]s"
	case msgGroupsAdminOnly:
		return "Only admins can list everyone's groups with --all. Type /groups to list the groups you created."
	case msgGroupsFailed:
		return "I couldn't read the list of groups just now. Try again in a minute; if it keeps failing, ask an admin to check the bot's logs."

	case msgAccessContact:
		return "an admin of this bot"
	case msgAccessConversations:
		return "Groups can't be created from this chat (rule: allow_conversations). Send the command in a chat where I may create groups, " +
			"or ask %[1]s to add this chat (%[2]s) to access.allow_conversations. Your user ID is %[3]s."
	case msgAccessUsers:
		return "You are not on the list of people who may create groups (rule: allow_users). Ask %[1]s to add your user ID %[2]s to access.allow_users."
	case msgAccessDepartments:
		return "Only members of certain departments may create groups, and you are in none of them (rule: allow_departments). " +
			"Ask %[1]s to add your department to access.allow_departments, or your user ID %[2]s to access.allow_users."
	case msgAccessUsersOrDepartments:
		return "Only listed people and members of listed departments may create groups, and you are neither (rules: allow_users, allow_departments). " +
			"Ask %[1]s to add your user ID %[2]s to access.allow_users."
	case msgAccessStandardGroups:
		return "Only admins may create standard groups (rule: standard_groups). Ask %[1]s to add your user ID %[2]s to access.admins, " +
			"or create an internal group instead (--internal)."
	case msgAccessOwnerOverride:
		return "Only admins may make someone else the owner of a new group (rule: owner_override). Ask %[1]s to add your user ID %[2]s to access.admins, " +
			"or leave out --owner to be the owner yourself."
	case msgAccessRatePerUser:
		return "/newgroup is limited to %[1]d per %[2]s for each person, and you have reached that (rule: rate.per_user). Try again in %[3]s."
	case msgAccessRatePerConversation:
		return "/newgroup is limited to %[1]d per %[2]s in each chat, and this chat has reached that (rule: rate.per_conversation). Try again in %[3]s."
	case msgAccessLookupFailed:
		return "I couldn't look up your departments in DingTalk to check whether you may create groups, so I created nothing. Try again in a minute."
	case msgAccessSecond:
		return "second"
	case msgAccessSeconds:
		return "seconds"
	case msgAccessMinute:
		return "minute"
	case msgAccessMinutes:
		return "minutes"
	case msgAccessHour:
		return "hour"
	case msgAccessHours:
		return "hours"
	case msgAccessDay:
		return "day"
	case msgAccessDays:
		return "days"
	case msgAccessPeriodCount:
		return "%[1]d %[2]s"
	case msgAccessDuration:
		return "%[1]d %[2]s"
	}
	return ""
}

// catalogue renders message IDs in one language.
type catalogue struct {
	lang Lang
	text func(msgID) string
}

// newCatalogue returns the English catalogue.
func newCatalogue() catalogue {
	return catalogueFor(English)
}

// catalogueFor returns the catalogue of lang; anything but Chinese is English.
func catalogueFor(lang Lang) catalogue {
	if lang == Chinese {
		return catalogue{lang: Chinese, text: chineseText}
	}
	return catalogue{lang: English, text: englishText}
}

// f renders id with args.
func (c catalogue) f(id msgID, args ...any) string {
	t := c.text(id)
	if len(args) == 0 {
		return t
	}
	return fmt.Sprintf(t, args...)
}

// list joins items as "a, b or c" (sep is msgOr or msgAnd).
func (c catalogue) list(items []string, last msgID) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	s := items[0]
	for _, it := range items[1 : len(items)-1] {
		s += c.text(msgListSep) + it
	}
	return s + c.text(last) + items[len(items)-1]
}

// sentenceSep separates sentences: a space in English, nothing in Chinese.
func (c catalogue) sentenceSep() string {
	if c.lang == Chinese {
		return ""
	}
	return " "
}
