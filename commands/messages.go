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
	msgUnclosedQuoteAfter
	msgUnclosedQuoteAtEnd
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
	msgHelpOptHelp

	// /newgroup definition.

	// /newgroup validation.
	msgExternalSender
	msgMentionOutsideOne
	msgMentionOutsideMany
	msgMentionsOutsideCountOne
	msgMentionsOutsideCountMany
	msgOwnerAmbiguous
	msgOwnerValue
	msgBadUserID
	msgOwnerNotOne
	msgBadPerson
	msgTooManyPeople

	// Resolving people (Language.Complete).
	msgUnresolvedIntro
	msgNotFoundMobile
	msgNotFoundName
	msgAmbiguous
	msgUnresolvedFix
	msgUnresolvedFixNoIDs
	msgQuoteHint
	msgLookupFailed
	msgLookupScope
	msgLookupRetry
	msgMore

	// Outcome replies.
	msgCreatedOpenConversationID
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

	// Dry run.

	// /groups.

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

	// Managing a group dingbot created (groupmgmt.go).
	msgManageOptGroup
	msgManageBadGroup
	msgManageNeedGroup
	msgManageNotOurs
	msgManageStoreFailed
	msgManageNotAllowed
	msgManageScope
	msgManageRefused
	msgManageUnreachable

	// A command's own access list (access.commands.NAME.allow_users).
	msgAccessCommandUsers

	// A group's name (/newgroup, /rename).
	msgNameMissing
	msgNameTooLong
	msgNameControl
	msgTooManyNames

	// Bounds and DingTalk's quotas and error bodies (the pipeline's replies).
	msgTooManyLookups
	msgCommandTimeout
	msgFailNonJSON
	msgLookupQuota
	msgLookupNonJSON

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
		return "The quote that starts at “%[1]s” is never closed."
	case msgUnclosedQuoteAfter:
		return "The quote after “%[1]s” is never closed."
	case msgUnclosedQuoteAtEnd:
		return "The quote at the end of the line is never closed."
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

	case msgHelpOptHelp:
		return "Show this help."

	case msgExternalSender:
		return "I can only create groups for members of this organisation, and DingTalk didn't tell me who you are (senderStaffId is missing). " +
			"This happens when you are outside the organisation, or when the robot is not published yet; an admin can publish it in the DingTalk developer console."
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
	case msgOwnerAmbiguous:
		return "I can't tell which of the people you mentioned %[1]s refers to. Write --owner userid:ID instead."
	case msgOwnerValue:
		return "--owner needs an @mention or userid:ID, not %[1]q."
	case msgBadUserID:
		return "%[1]q is not a valid user ID; write userid: followed by the ID, like userid:manager4220."
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
	case msgUnresolvedFixNoIDs:
		return "Write each of them as userid:ID, a mobile number, or their name exactly as in the address book, then send the command again."
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

	case msgCreatedOpenConversationID:
		return "openConversationId: %[1]s"
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
			"An admin can buy more calls or upgrade the plan in the DingTalk developer console; otherwise it resets next month."
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
	case msgManageOptGroup:
		return "The group to manage, from a one-to-one chat: its openConversationId or chatid (in the create reply and in /groups)."
	case msgManageBadGroup:
		return "%[1]q is not a group ID (an openConversationId or a chatid)."
	case msgManageNeedGroup:
		return "In a one-to-one chat, say which group with --group ID: its openConversationId or chatid, from the create reply or /groups."
	case msgManageNotOurs:
		return "I can only manage groups I created with /newgroup: DingTalk does not let an app change other groups. Nothing was changed."
	case msgManageStoreFailed:
		return "I could not read my records of the groups I created. Nothing was changed; please try again in a minute."
	case msgManageNotAllowed:
		return "Only the group's owner (%[1]s), the person who created it through me (%[2]s) or a bot admin may change it. Nothing was changed. (Your user ID: %[3]s)"
	case msgManageScope:
		return "The app lacks the DingTalk permission qyapi_chat_manage, so nothing was changed. " +
			"An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app."
	case msgManageRefused:
		return "DingTalk refused the change (%[1]s). Nothing was changed."
	case msgManageUnreachable:
		return "I could not get an answer from DingTalk, so the change may or may not have been made. Look at the group, then try again if needed: doing it twice is harmless."
	case msgNameMissing:
		return "The group needs a name."
	case msgNameTooLong:
		return "The name %[1]q is %[2]d characters; the limit is %[3]d."
	case msgNameControl:
		return "The name %[1]q contains invisible control characters; type it again without them."
	case msgTooManyNames:
		return "I found more than one name: %[1]s. If the name has spaces, put it in quotes: %[2]s"
	case msgAccessCommandUsers:
		return "Only some people may use %[1]s (rule: %[4]s). Ask %[2]s to add your user ID %[3]s."
	case msgTooManyLookups:
		return "That command names %[1]d people to look up by mobile number or name; I look up at most %[2]d per command, so I did nothing. " +
			"Write some of them as userid:ID (or @mention them in a group chat), or split the command: for example /newgroup with some of them, then /addmember for the rest."
	case msgCommandTimeout:
		return "That took too long (over %[1]s), so I stopped before changing anything in DingTalk: nothing was created or changed. " +
			"Try again in a few minutes; if it keeps happening, name fewer people, or ask an admin to check the bot's logs."
	case msgFailNonJSON:
		return "DingTalk did not give a proper answer (HTTP %[1]d with a web page instead), so the group was not created. " +
			"This happens when the bot's IP address is blocked for a few minutes after too many calls, or when a proxy is in the way. " +
			"Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."
	case msgLookupQuota:
		return "This organisation has used up its monthly DingTalk API quota. " +
			"An admin can buy more calls or upgrade the plan in the DingTalk developer console; otherwise it resets next month."
	case msgLookupNonJSON:
		return "DingTalk did not give a proper answer (HTTP %[1]d with a web page instead): the bot's IP address may be blocked for a few minutes after too many calls, or a proxy is in the way. " +
			"Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."
	}
	return ""
}

// Texts are a command's own sentences: the message IDs from First up to
// (not including) Last, which the command declares in its own file, rendered
// by English and by Chinese. TestCatalogueComplete checks that every
// registered command has every one of its IDs in every language.
type Texts struct {
	First, Last msgID
	English     func(msgID) string
	Chinese     func(msgID) string
}

// has reports whether id is one of t's IDs.
func (t Texts) has(id msgID) bool { return id >= t.First && id < t.Last }

// in returns t's text function for lang.
func (t Texts) in(lang Lang) func(msgID) string {
	if lang == Chinese {
		return t.Chinese
	}
	return t.English
}

// catalogue renders message IDs in one language.
type catalogue struct {
	lang Lang
	text func(msgID) string
}

// newCatalogue returns the English catalogue of the built-in commands.
func newCatalogue() catalogue {
	return catalogueFor(English)
}

// catalogueFor returns the catalogue of lang with the built-in commands'
// texts; anything but Chinese is English. A Language uses its own (cat).
func catalogueFor(lang Lang) catalogue {
	return catalogueOf(lang, Builtin())
}

// catalogueOf returns the catalogue of lang: the generic texts, then those
// of cmds. Anything but Chinese is English.
func catalogueOf(lang Lang, cmds []Command) catalogue {
	if lang != Chinese {
		lang = English
	}
	generic := englishText
	if lang == Chinese {
		generic = chineseText
	}
	return catalogue{lang: lang, text: func(id msgID) string {
		if id < msgCount {
			return generic(id)
		}
		for i := range cmds {
			if t := cmds[i].Texts; t.has(id) {
				if f := t.in(lang); f != nil {
					return f(id)
				}
			}
		}
		return generic(id)
	}}
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
