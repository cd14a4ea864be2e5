package commands

// This file holds /newgroup's own sentences, in English and Chinese. The
// sentences every command shares (usage errors, people, DingTalk failures,
// access) are in messages.go and messages_zh.go.

// newGroupTexts are /newgroup's Texts.
func newGroupTexts() Texts {
	// The preview's texts (newgroup_preview.go) follow /newgroup's own.
	pick := func(own, preview func(msgID) string) func(msgID) string {
		return func(id msgID) string {
			if id >= msgNewGroupTextsEnd {
				return preview(id)
			}
			return own(id)
		}
	}
	return Texts{First: msgNewGroupSummary, Last: msgPreviewTextsEnd,
		English: pick(newgroupEnglishText, previewEnglish), Chinese: pick(newgroupChineseText, previewChinese)}
}

const (
	msgNewGroupSummary msgID = 1000 + iota
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
	msgBadExtID
	msgBadIcon
	msgTooManyExt
	msgExtNeedsStandard
	msgOwnerExtNeedsStandard
	msgUnknownTemplate
	msgSeeTemplates
	msgNoTemplates
	msgCreated
	msgCreatedType
	msgCreatedOwner
	msgCreatedMembers
	msgCreatedExternal
	msgCreatedChatID
	msgGroupInternal
	msgGroupStandard
	msgGroupTagOther
	msgCreatedMembersNamed
	msgNotAdded
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
	msgDryRunDenied
	msgValueYes
	msgValueNo
	msgValueEveryone
	msgValueOwner
	msgValueEmp
	msgValueExt
	msgKickoffTitle
	msgKickoffText
	msgKickoffCommands
	msgKickoffNoJoin
	msgKickoffNoPost
	msgKickoffScope
	msgKickoffRefused
	msgKickoffUnreachable
	msgNewGroupTextsEnd
)

func newgroupEnglishText(id msgID) string {
	switch id {
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
	case msgBadExtID:
		return "%[1]q is not a valid external contact ID (a unionId)."
	case msgBadIcon:
		return "%[1]q is not a valid mediaId for --icon."
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
	case msgCreatedChatID:
		return "chatid: %[1]s"
	case msgGroupInternal:
		return "internal group"
	case msgGroupStandard:
		return "standard group"
	case msgGroupTagOther:
		return "conversationTag %[1]d"
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
	case msgDryRunDenied:
		return "Without --dry-run this command would be refused: %[1]s"
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
	case msgKickoffTitle:
		return "%[1]s"
	case msgKickoffText:
		return "### 👋 %[1]s\n\nCreated by %[2]s on %[3]s.\n\n**Owner:** %[4]s\n\n**Members (%[5]d):** %[6]s"
	case msgKickoffCommands:
		return "Commands that work here (type them with @ and my name): %[1]s. /help explains each."
	case msgKickoffNoJoin:
		return "The group %[1]q was created, but I could not join it, so there is no kickoff message in it: %[2]s"
	case msgKickoffNoPost:
		return "The group %[1]q was created and I joined it, but I could not post the kickoff message: %[2]s"
	case msgKickoffScope:
		return "the app lacks the DingTalk permission %[1]s. An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app."
	case msgKickoffRefused:
		return "DingTalk refused (code %[1]s)."
	case msgKickoffUnreachable:
		return "DingTalk did not answer. The group itself is fine."
	}
	return ""
}

func newgroupChineseText(id msgID) string {
	switch id {
	case msgNewGroupSummary:
		return "创建钉钉群：你是群主，你 @ 的人是群成员。"
	case msgNewGroupUsage:
		return "群名 [@成员 ...] [userid:ID ...] [选项]"
	case msgNewGroupDescription:
		return "群名 1 到 20 个字；含空格时请加引号。" +
			"你是群主，你 @ 的每个人都会成为群成员。" +
			"也可以用机器人配置里的别名（@release-team）、手机号（13800000000）、userid:ID，或通讯录里的完整姓名来指定成员；在和我的单聊里就这样写。" +
			"连你在内最多 1000 人；超过 40 人时，我会在建群后马上把其余的人加进群。" +
			"群名以短横线开头时，请在它前面写 --。" +
			"默认建内部群（仅限本组织成员），除非你指定普通群。"
	case msgOptOwner:
		return "让别人当群主；你仍是群成员。"
	case msgOptOwnerType:
		return "群主是员工（emp，默认）还是外部联系人（ext，需要普通群）。"
	case msgOptType:
		return "群类型：internal（内部群，仅限本组织成员，默认）或 standard（普通群，需钉钉技术支持为本应用开通白名单）。"
	case msgOptStandard:
		return "等同于 --type standard。"
	case msgOptInternal:
		return "等同于 --type internal。"
	case msgOptExt:
		return "按 unionId 添加外部联系人，多个用逗号分隔；需要普通群。"
	case msgOptIcon:
		return "群头像，填钉钉媒体文件上传接口返回的 mediaId。"
	case msgOptMentionAll:
		return "谁可以 @所有人（默认：所有人）。"
	case msgOptHistory:
		return "新成员能否查看最近 100 条聊天记录（默认：否）。"
	case msgOptApproval:
		return "入群是否需要审批（默认：否）。"
	case msgOptSearchable:
		return "群能否被搜索到（默认：否）。"
	case msgOptMute:
		return "除群主外全员禁言（默认：否）。"
	case msgOptManage:
		return "谁可以管理群（默认：所有人）。"
	case msgOptDryRun:
		return "查找所有人、检查所有参数，然后原样展示将发给钉钉的内容，但不建群。"
	case msgOptTemplate:
		return "从机器人配置里的模板开始：模板里的人会加进群，模板里的选项是默认值，你写的选项优先（/帮助 模板 可列出全部模板）。"
	case msgBadExtID:
		return "%[1]q 不是有效的外部联系人 ID（unionId）。"
	case msgBadIcon:
		return "%[1]q 不是有效的 --icon mediaId。"
	case msgTooManyExt:
		return "共 %[1]d 个外部联系人；建群时最多只能加 %[2]d 个。"
	case msgExtNeedsStandard:
		return "外部联系人（--ext）只能加入普通群；请加上 --standard（普通群需钉钉技术支持为本应用开通白名单）。"
	case msgOwnerExtNeedsStandard:
		return "外部群主（--owner-type ext）需要普通群；请加上 --standard（普通群需钉钉技术支持为本应用开通白名单）。"
	case msgUnknownTemplate:
		return "没有叫 %[1]q 的模板。"
	case msgSeeTemplates:
		return "输入 /帮助 模板 查看所有模板。"
	case msgNoTemplates:
		return "还没有配置模板，所以不能用 --template。请直接在命令里写出成员和选项。"
	case msgCreated:
		return "已创建群 “%[1]s”。"
	case msgCreatedType:
		return "类型：%[1]s"
	case msgCreatedOwner:
		return "群主：%[1]s"
	case msgCreatedMembers:
		return "成员：%[1]d 人"
	case msgCreatedExternal:
		return "外部联系人：%[1]d 人"
	case msgCreatedChatID:
		return "chatid：%[1]s"
	case msgGroupInternal:
		return "内部群"
	case msgGroupStandard:
		return "普通群"
	case msgGroupTagOther:
		return "conversationTag %[1]d"
	case msgCreatedMembersNamed:
		return "成员：%[1]d 人（%[2]s）"
	case msgNotAdded:
		return "建群后有 %[1]d 人没能加进群：%[2]s。群主可以在群设置里手动添加。"
	case msgDryRunTitle:
		return "预览：什么都没有创建。以下是我将发给钉钉的内容："
	case msgDryRunName:
		return "群名（name）：“%[1]s”"
	case msgDryRunType:
		return "类型（conversationTag）：%[1]s，%[2]d"
	case msgDryRunOwnerType:
		return "群主类型（ownerType）：%[1]s"
	case msgDryRunMembers:
		return "成员（useridlist，%[1]d 人）：%[2]s"
	case msgDryRunLarge:
		return "钉钉建群时最多接受 %[1]d 名成员，所以我会先用前 %[1]d 人建群，再把其余 %[2]d 人加进去。"
	case msgDryRunExternal:
		return "外部联系人（extidlist）：%[1]s"
	case msgDryRunIcon:
		return "群头像（icon）：%[1]s"
	case msgDryRunOption:
		return "%[1]s（%[2]s）：%[3]s"
	case msgDryRunNone:
		return "无"
	case msgDryRunDefault:
		return "不发送（钉钉默认：%[1]s）"
	case msgDryRunTemplate:
		return "模板：%[1]s"
	case msgDryRunPending:
		return "还需在钉钉中查找：%[1]s"
	case msgDryRunRequest:
		return "POST /v1.0/im/group/create 的请求体："
	case msgDryRunAgain:
		return "去掉 --dry-run 再发送同一条命令，即可建群。"
	case msgDryRunDenied:
		return "去掉 --dry-run 后，这条命令会被拒绝：%[1]s"
	case msgValueYes:
		return "是"
	case msgValueNo:
		return "否"
	case msgValueEveryone:
		return "所有人"
	case msgValueOwner:
		return "仅群主"
	case msgValueEmp:
		return "员工（emp）"
	case msgValueExt:
		return "外部联系人（ext）"
	case msgKickoffTitle:
		return "%[1]s"
	case msgKickoffText:
		return "### 👋 %[1]s\n\n由 %[2]s 创建于 %[3]s。\n\n**群主：** %[4]s\n\n**成员（%[5]d 人）：** %[6]s"
	case msgKickoffCommands:
		return "在这个群里可用的命令（@我 后输入）：%[1]s。/帮助 有每条命令的说明。"
	case msgKickoffNoJoin:
		return "群 “%[1]s” 已创建，但我没能加入这个群，所以群里没有开场消息：%[2]s"
	case msgKickoffNoPost:
		return "群 “%[1]s” 已创建，我也已加入，但没能发出开场消息：%[2]s"
	case msgKickoffScope:
		return "应用缺少钉钉权限 %[1]s。请管理员在钉钉开发者后台 → 应用 → 权限管理 中开通，然后发布新版本。"
	case msgKickoffRefused:
		return "钉钉拒绝了（错误码 %[1]s）。"
	case msgKickoffUnreachable:
		return "钉钉没有回应。群本身没有问题。"
	}
	return ""
}
