package commands

// CancelCommand is /cancel CODE (/取消): drops a /newgroup preview, so
// nothing is created. Only the person who sent the /newgroup may cancel
// it; once its group exists, it cannot be undone.
func CancelCommand() Command {
	return Command{
		Name:   cmdCancel,
		Define: answerSpec{name: cmdCancel, zh: cmdCancelZh, summary: msgCancelSummary, description: msgCancelDescription}.define,
		Texts:  Texts{First: msgCancelSummary, Last: msgCancelTextsEnd, English: cancelEnglish, Chinese: cancelChinese},
		Handle: answerHandler(cmdCancel),
		Run:    runAnswer,
	}
}

const (
	cmdCancel   = "cancel"
	cmdCancelZh = "取消"
)

const (
	msgCancelSummary msgID = 10000 + iota
	msgCancelDescription
	msgCancelTextsEnd
)

func cancelEnglish(id msgID) string {
	switch id {
	case msgCancelSummary:
		return "Drop a preview: nothing is created."
	case msgCancelDescription:
		return "Tapping Cancel under a preview sends /cancel CODE for you. Only the person who sent the /newgroup can cancel it; " +
			"a group that was already created cannot be undone this way."
	}
	return ""
}

func cancelChinese(id msgID) string {
	switch id {
	case msgCancelSummary:
		return "放弃一条预览：不建群。"
	case msgCancelDescription:
		return "点预览下面的 “取消” 会替你发送 /取消 CODE。只有发送 /建群 的人可以取消；已经建好的群无法这样撤销。"
	}
	return ""
}
