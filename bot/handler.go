package bot

// HandlerFunc is what a transport (bot/stream, bot/callback) calls for every
// chat message it receives; *Bot's Handle fits. It returns only once the
// message is stored in the inbox, not once its command has run, and an error
// if it was not stored (ErrStopping once Shutdown has begun): the transport
// then tells DingTalk so, and DingTalk may deliver the message again.
type HandlerFunc func(Message) error
