package commands

// ConfirmCommand is /confirm CODE (/确认): creates the group a /newgroup
// preview showed, exactly as shown (the stored, already resolved request),
// if the sender is the one who asked and the preview has not expired. A
// second /confirm of the same code answers with what the first one did.
func ConfirmCommand() Command {
	return Command{
		Name:   cmdConfirm,
		Define: answerSpec{name: cmdConfirm, zh: cmdConfirmZh, summary: msgConfirmSummary, description: msgConfirmDescription}.define,
		Texts:  Texts{First: msgConfirmSummary, Last: msgConfirmTextsEnd, English: confirmEnglish, Chinese: confirmChinese},
		Handle: answerHandler(cmdConfirm),
		Run:    runAnswer,
		Resume: resumeNewGroup, // the kickoff of the group it created
	}
}

const (
	cmdConfirm   = "confirm"
	cmdConfirmZh = "确认"
)

const (
	msgConfirmSummary msgID = 9000 + iota
	msgConfirmDescription
	msgConfirmTextsEnd
)

func confirmEnglish(id msgID) string {
	switch id {
	case msgConfirmSummary:
		return "Create the group a preview showed."
	case msgConfirmDescription:
		return "When a /newgroup is worth a second look (someone found by name, a large alias, another owner, a standard group…), " +
			"I show a preview with Create and Cancel instead of creating at once. Tapping Create sends /confirm CODE for you. " +
			"Only the person who sent the /newgroup can confirm it, and only until the preview expires."
	}
	return ""
}

func confirmChinese(id msgID) string {
	switch id {
	case msgConfirmSummary:
		return "创建预览中显示的群。"
	case msgConfirmDescription:
		return "当一条 /建群 值得再看一眼（有人是按姓名搜到的、别名包含很多人、群主不是你、标准群……），我会先发一条带 “创建” 和 “取消” 按钮的预览，而不是直接建群。" +
			"点 “创建” 会替你发送 /确认 CODE。只有发送 /建群 的人可以确认，且须在预览过期之前。"
	}
	return ""
}
