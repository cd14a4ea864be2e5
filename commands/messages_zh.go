package commands

// chineseText is the Simplified Chinese catalogue. It says the same as
// englishText, in the words a Chinese DingTalk user expects; command and
// option names, field names and IDs stay as they are typed.
func chineseText(id msgID) string {
	switch id {
	case msgNotCommand:
		return "我只懂以 / 开头的命令。试试 /帮助。"
	case msgNonText:
		return "我只能读文字消息。请输入命令，例如 /建群；输入 /帮助 查看全部命令。"
	case msgUnknownCommand:
		return "没有 %[1]s 这个命令。"
	case msgDidYouMean:
		return "你是不是想输入 %[1]s？"
	case msgTypeHelp:
		return "输入 /帮助 查看我能做什么。"
	case msgInternal:
		return "我这边读取命令时出了问题。请再试一次，或输入 /帮助。"
	case msgUsageLine:
		return "用法：%[1]s"
	case msgExampleLine:
		return "示例：%[1]s"
	case msgMoreHelp:
		return "全部选项：/帮助 %[1]s"
	case msgOr:
		return "或"
	case msgAnd:
		return "和"
	case msgListSep:
		return "、"

	case msgUnclosedQuote:
		return "从“%[1]s”开始的引号没有闭合。"
	case msgUnclosedQuoteAfter:
		return "“%[1]s”后面的引号没有闭合。"
	case msgUnclosedQuoteAtEnd:
		return "行末的引号没有闭合。"
	case msgApostropheHint:
		return "如果那是撇号（如 Bob's），请把整个群名放进双引号，例如 \"Bob's group\"。"
	case msgTrailingBackslash:
		return "这一行以反斜杠结尾（第 %[1]d 列）；反斜杠后面必须跟着它要转义的字符。"
	case msgUnreadable:
		return "我没能把这条命令拆分成词。"

	case msgUnknownOption:
		return "没有 %[1]s 这个选项。"
	case msgMissingValue:
		return "%[1]s 需要一个值：%[2]s。"
	case msgBadChoice:
		return "%[1]s 不接受 %[2]q，可用的值：%[3]s。"
	case msgRepeatedOption:
		return "%[1]s 出现了不止一次，请只写一次。"
	case msgFlagTakesNoValue:
		return "%[1]s 不带值，直接写 %[1]s 即可。"
	case msgConflictingOptions:
		return "%[1]s 和 %[2]s 互相矛盾，请只保留一个。"

	case msgHelpCommands:
		return "命令："
	case msgHelpFooter:
		return "输入 /帮助 命令 查看详细说明，例如 /帮助 %[1]s。"
	case msgHelpAliases:
		return "也可以写：%[1]s"
	case msgHelpOptions:
		return "选项（写在命令后的任意位置，格式为 --选项 值 或 --选项=值）："
	case msgHelpExamples:
		return "示例："
	case msgHelpAlsoOption:
		return "（也可写 %[1]s）"
	case msgHelpRepeatable:
		return "（可重复）"
	case msgHelpUnknownCommand:
		return "没有叫 %[1]s 的命令。"
	case msgHelpTooManyArgs:
		return "/帮助 最多跟一个命令名。"
	case msgHelpTemplates:
		return "模板（用法：/建群 --template 模板名 \"群名\"）："
	case msgHelpNoTemplates:
		return "还没有配置模板。管理员可以在机器人的配置文件里添加；之后用 /建群 --template 模板名 即可自动填入模板里的成员和选项。"
	case msgHelpTemplatesFooter:
		return "建群模板：/帮助 模板"

	case msgHelpOptHelp:
		return "显示本帮助。"

	case msgExternalSender:
		return "我只能为本组织成员建群，但钉钉没有告诉我你是谁（缺少 senderStaffId）。" +
			"你不在本组织内，或机器人还没有发布时会这样；管理员可以在钉钉开发者后台发布机器人。"
	case msgMentionOutsideOne:
		return "%[1]s 不在你的组织内（钉钉没有提供其 userId），我无法添加；" +
			"请去掉这个 @，或加 --standard 并用 --ext UNIONID 把对方作为外部联系人添加。"
	case msgMentionOutsideMany:
		return "%[1]s 不在你的组织内（钉钉没有提供他们的 userId），我无法添加；" +
			"请去掉这些 @，或加 --standard 并用 --ext UNIONID 把他们作为外部联系人添加。"
	case msgMentionsOutsideCountOne:
		return "有 1 个被 @ 的人在本组织没有 userId，我无法添加；" +
			"请去掉这个 @，或加 --standard 并用 --ext UNIONID 把对方作为外部联系人添加。"
	case msgMentionsOutsideCountMany:
		return "有 %[1]d 个被 @ 的人在本组织没有 userId，我无法添加；" +
			"请去掉这些 @，或加 --standard 并用 --ext UNIONID 把他们作为外部联系人添加。"
	case msgOwnerAmbiguous:
		return "我分不清 %[1]s 指的是你 @ 的哪个人。请改写成 --owner userid:ID。"
	case msgOwnerValue:
		return "--owner 需要 @某人、手机号或 userid:ID，而不是 %[1]q。"
	case msgBadUserID:
		return "%[1]q 不是有效的 userId；请写 userid: 加上 ID，例如 userid:manager4220。"
	case msgOwnerNotOne:
		return "--owner 只能是一个人，但 %[1]s 代表 %[2]d 个人。请写其中一人，例如 --owner userid:ID。"
	case msgBadPerson:
		return "%[1]q 不是我能查找的人：请写 @姓名、手机号（如 13800000000）或 userid:ID。"
	case msgTooManyPeople:
		return "连群主在内共 %[1]d 人；一个群最多 %[2]d 人。"

	case msgUnresolvedIntro:
		return "我没有建群，因为有人我确定不了是谁："
	case msgNotFoundMobile:
		return "%[1]s：本组织没有人使用手机号 %[2]s。"
	case msgNotFoundName:
		return "%[1]s：本组织没有叫 %[2]q 的人。"
	case msgAmbiguous:
		return "%[1]s 对应 %[2]d 个人：%[3]s。"
	case msgUnresolvedFix:
		return "请把他们改写成 userid:ID（ID 见上方）、手机号，或通讯录里的完整姓名，然后重新发送命令。"
	case msgUnresolvedFixNoIDs:
		return "请把他们改写成 userid:ID、手机号，或通讯录里的完整姓名，然后重新发送命令。"
	case msgQuoteHint:
		return "如果 %[1]s 是群名的一部分，请把整个群名加上引号：%[2]s"
	case msgLookupFailed:
		return "我没能在钉钉里查找 %[1]s，所以没有建群。"
	case msgLookupScope:
		return "本应用缺少查找成员所需的钉钉权限 %[1]s。" +
			"管理员可以在钉钉开发者后台 → 应用 → 权限管理 中开通，然后发布新版本。"
	case msgLookupRetry:
		return "请过几分钟再试；如果一直失败，请管理员查看机器人的日志。"
	case msgMore:
		return "另外 %[1]d 人"

	case msgCreatedOpenConversationID:
		return "openConversationId：%[1]s"
	case msgFailVisibility:
		return "钉钉拒绝了：群主（%[1]s）不在本应用的可见范围内（群主不在应用可见性内）。" +
			"请管理员在钉钉开发者后台 → 应用 → 版本管理与发布 → 可见范围 中添加此人，然后再试。"
	case msgFailPermissionCheck:
		return "钉钉拒绝了：权限校验失败。可能的原因：应用缺少 qyapi_chat_manage 权限；" +
			"普通群需要钉钉技术支持为本应用开通白名单；或有成员不在应用可见范围内。" +
			"请管理员在钉钉开发者后台检查本应用。"
	case msgFailParameter:
		return "钉钉认为请求里有参数不合法。请检查群名（1 到 20 个字）、userId、" +
			"--icon 的 mediaId、--ext 的 unionId 以及其他选项，然后再试。"
	case msgFailMaybeCreated:
		return "钉钉在建群时出错，群【可能】已经建好了。" +
			"再试之前请先看看你的群列表，以免建出两个群。"
	case msgFailThrottled:
		return "钉钉正在对本应用限流。请一分钟后再试。"
	case msgFailInvalidToken:
		return "钉钉拒绝了机器人的凭证，所以没有建群。" +
			"请管理员检查 DINGTALK_CLIENT_ID 和 DINGTALK_CLIENT_SECRET。"
	case msgFailScope:
		return "本应用缺少钉钉权限 %[1]s，所以没有建群。" +
			"管理员可以在钉钉开发者后台 → 应用 → 权限管理 中开通，然后发布新版本。"
	case msgFailCredentials:
		return "钉钉说机器人的 Client ID 或 Client Secret 不对，所以没有建群。" +
			"请管理员检查 DINGTALK_CLIENT_ID 和 DINGTALK_CLIENT_SECRET。"
	case msgFailIPWhitelist:
		return "钉钉拒绝了调用：机器人服务器的 IP 不在应用的 IP 白名单里。" +
			"管理员可以在钉钉开发者后台 → 应用 → 安全设置 中添加。"
	case msgFailMonthlyQuota:
		return "本组织本月的钉钉接口调用量已用完，所以没有建群。" +
			"管理员可以在钉钉开发者后台购买更多调用量或升级版本；否则要等到下个月额度恢复。"
	case msgFailOtherCode:
		return "钉钉拒绝建群（错误码 %[1]s）。"
	case msgFailOtherStatus:
		return "钉钉拒绝建群（HTTP 状态码 %[1]d）。"
	case msgFailTimeout:
		return "钉钉没有及时响应，群【可能】已经建好了。" +
			"再试之前请先看看你的群列表，以免建出两个群。"
	case msgFailCanceled:
		return "请求被中断了（机器人可能正在重启），群【可能】已经建好了。" +
			"再试之前请先看看你的群列表。"
	case msgFailUnreachable:
		return "我连不上钉钉，所以没有建群。请过几分钟再试；" +
			"如果一直失败，请管理员查看机器人的日志。"
	case msgRequestID:
		return "钉钉请求 ID：%[1]s"
	case msgTheOwner:
		return "群主"

	case msgAccessContact:
		return "本机器人的管理员"
	case msgAccessConversations:
		return "不能在这个会话里建群（规则：allow_conversations）。请到允许建群的会话里发送命令，" +
			"或请联系%[1]s，把这个会话（%[2]s）加入 access.allow_conversations。你的用户 ID 是 %[3]s。"
	case msgAccessUsers:
		return "你不在可以建群的人员名单中（规则：allow_users）。请联系%[1]s，把你的用户 ID %[2]s 加入 access.allow_users。"
	case msgAccessDepartments:
		return "只有指定部门的成员可以建群，而你不在其中任何一个部门（规则：allow_departments）。" +
			"请联系%[1]s，把你的部门加入 access.allow_departments，或把你的用户 ID %[2]s 加入 access.allow_users。"
	case msgAccessUsersOrDepartments:
		return "只有名单中的人员和指定部门的成员可以建群，而你两者都不是（规则：allow_users、allow_departments）。" +
			"请联系%[1]s，把你的用户 ID %[2]s 加入 access.allow_users。"
	case msgAccessStandardGroups:
		return "只有管理员可以建普通群（规则：standard_groups）。请联系%[1]s，把你的用户 ID %[2]s 加入 access.admins；" +
			"或改建内部群（--internal）。"
	case msgAccessOwnerOverride:
		return "只有管理员可以指定别人当群主（规则：owner_override）。请联系%[1]s，把你的用户 ID %[2]s 加入 access.admins；" +
			"或去掉 --群主，由你自己当群主。"
	case msgAccessRatePerUser:
		return "每人每%[2]s最多 /建群 %[1]d 次，你已达到上限（规则：rate.per_user）。请在 %[3]s后再试。"
	case msgAccessRatePerConversation:
		return "每个会话每%[2]s最多 /建群 %[1]d 次，这个会话已达到上限（规则：rate.per_conversation）。请在 %[3]s后再试。"
	case msgAccessLookupFailed:
		return "我没能在钉钉查到你所在的部门，无法确认你是否可以建群，所以什么也没有创建。请过一分钟再试。"
	case msgAccessSecond, msgAccessSeconds:
		return "秒"
	case msgAccessMinute, msgAccessMinutes:
		return "分钟"
	case msgAccessHour, msgAccessHours:
		return "小时"
	case msgAccessDay, msgAccessDays:
		return "天"
	case msgAccessPeriodCount:
		return " %[1]d %[2]s"
	case msgAccessDuration:
		return "%[1]d %[2]s"
	case msgManageOptGroup:
		return "在单聊里指定要管理的群：群的 openConversationId 或 chatid（见建群回复和 /群列表）。"
	case msgManageBadGroup:
		return "%[1]q 不是群 ID（openConversationId 或 chatid）。"
	case msgManageNeedGroup:
		return "在单聊里请用 --group ID 指定群：群的 openConversationId 或 chatid，见建群回复或 /群列表。"
	case msgManageNotOurs:
		return "我只能管理我用 /建群 创建的群：钉钉不允许应用修改其他群。没有做任何修改。"
	case msgManageStoreFailed:
		return "我读取不了我创建的群的记录。没有做任何修改；请稍后再试。"
	case msgManageNotAllowed:
		return "只有群主（%[1]s）、通过我建群的人（%[2]s）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：%[3]s）"
	case msgManageScope:
		return "应用缺少钉钉权限 qyapi_chat_manage，所以没有做任何修改。请管理员在钉钉开发者后台 → 应用 → 权限管理 中开通，然后发布新版本。"
	case msgManageRefused:
		return "钉钉拒绝了这次修改（%[1]s）。没有做任何修改。"
	case msgManageUnreachable:
		return "钉钉没有回应，修改可能已完成也可能没有。请先看看群，需要的话再试一次：重复执行没有坏处。"
	case msgNameMissing:
		return "群需要一个名字。"
	case msgNameTooLong:
		return "群名 %[1]q 有 %[2]d 个字，上限是 %[3]d 个。"
	case msgNameControl:
		return "群名 %[1]q 含有不可见的控制字符，请去掉后重新输入。"
	case msgTooManyNames:
		return "我找到了不止一个群名：%[1]s。群名含空格时请加引号：%[2]s"
	case msgAccessCommandUsers:
		return "只有部分人可以使用 %[1]s（规则：%[4]s）。请联系%[2]s，把你的用户 ID %[3]s 加进去。"
	case msgTooManyLookups:
		return "这条命令要按手机号或姓名查找 %[1]d 个人；每条命令最多查找 %[2]d 个，所以我什么也没做。" +
			"请把其中一些人写成 userid:ID（或在群聊里直接 @ 他们），或者拆成几条命令：例如先用 /建群 加一部分人，再用 /加人 加其余的人。"
	case msgCommandTimeout:
		return "处理时间太长（超过 %[1]s），我在改动钉钉里的任何东西之前停下了：什么也没有创建或修改。" +
			"请过几分钟再试；如果一直这样，请少写几个人，或请管理员查看机器人的日志。"
	case msgFailNonJSON:
		return "钉钉没有给出正常的应答（HTTP %[1]d，返回的是网页），所以没有建群。" +
			"机器人服务器的 IP 因调用过多被暂时封禁几分钟，或中间有代理时会这样。" +
			"请过几分钟再试；如果一直失败，请管理员查看机器人的日志。"
	case msgLookupQuota:
		return "本组织本月的钉钉接口调用量已用完。" +
			"管理员可以在钉钉开发者后台购买更多调用量或升级版本；否则要等到下个月额度恢复。"
	case msgLookupNonJSON:
		return "钉钉没有给出正常的应答（HTTP %[1]d，返回的是网页）：机器人服务器的 IP 可能因调用过多被暂时封禁几分钟，或中间有代理。" +
			"请过几分钟再试；如果一直失败，请管理员查看机器人的日志。"
	}
	return ""
}
