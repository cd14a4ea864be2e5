package bot

import (
	"context"
	"errors"
	"time"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
)

// Directory is what the bot needs to look people up in DingTalk's address
// book; *dingclient.Client implements it.
type Directory interface {
	UserByMobile(ctx context.Context, mobile string) (string, error)
	SearchUsers(ctx context.Context, query string, exact bool, size int) ([]string, error)
	GetUser(ctx context.Context, userID string) (*dingclient.User, error)
}

// maxCandidates is how many matches of a name search are shown to the user.
const maxCandidates = 10

// resolver turns the people a command names by mobile number or by name
// into user IDs. Answers are cached: name search counts against the
// organisation's monthly API quota, and the same people come up again and
// again. Failed look-ups are not cached.
type resolver struct {
	dir   Directory
	cache *ttlCache[[]commands.Person]
}

func newResolver(dir Directory, ttl time.Duration, now func() time.Time) *resolver {
	return &resolver{dir: dir, cache: newTTLCache[[]commands.Person](ttl, now)}
}

// resolve looks up the pending references one after another, so a large
// command does not burst against DingTalk's rate limit, and stops at the
// first look-up that fails (a DingTalk error, or ctx done): the command
// cannot go on, and the rest would only spend calls against the rate limits
// and the monthly quota. The failed look-up, if any, is the last Lookup;
// references after it are not looked up.
func (r *resolver) resolve(ctx context.Context, refs []commands.PersonRef) []commands.Lookup {
	out := make([]commands.Lookup, 0, len(refs))
	for _, ref := range refs {
		people, err := r.lookup(ctx, ref)
		if err == nil {
			err = ctx.Err() // cut short, even if this one came from the cache
		}
		out = append(out, commands.Lookup{Ref: ref, Candidates: people, Err: err})
		if err != nil {
			break
		}
	}
	return out
}

// distinctRefs counts the different people refs names (by kind and value):
// what a command would look up.
func distinctRefs(refs []commands.PersonRef) int {
	seen := make(map[string]struct{}, len(refs))
	for _, ref := range refs {
		seen[string(ref.Kind)+":"+ref.Value] = struct{}{}
	}
	return len(seen)
}

func (r *resolver) lookup(ctx context.Context, ref commands.PersonRef) ([]commands.Person, error) {
	key := string(ref.Kind) + ":" + ref.Value
	if people, ok := r.cache.get(key); ok {
		return people, nil
	}
	var ids []string
	switch ref.Kind {
	case commands.RefMobile:
		id, err := r.dir.UserByMobile(ctx, ref.Value)
		switch {
		case errors.Is(err, dingclient.ErrUserNotFound):
		case err != nil:
			return nil, err
		default:
			ids = []string{id}
		}
	case commands.RefName:
		found, err := r.dir.SearchUsers(ctx, ref.Value, true, maxCandidates)
		if err != nil {
			return nil, err
		}
		ids = found
	default:
		return nil, errors.New("unknown kind of person reference")
	}
	people := make([]commands.Person, 0, len(ids))
	for _, id := range ids {
		p := commands.Person{UserID: id}
		if name, ok := r.name(ctx, id); ok {
			p.Name = name
		}
		people = append(people, p)
	}
	r.cache.put(key, people)
	return people, nil
}

// name finds a user's display name; a failure only costs the name.
func (r *resolver) name(ctx context.Context, userID string) (string, bool) {
	key := "user:" + userID
	if people, ok := r.cache.get(key); ok && len(people) == 1 {
		return people[0].Name, true
	}
	u, err := r.dir.GetUser(ctx, userID)
	if err != nil {
		return "", false
	}
	r.cache.put(key, []commands.Person{{UserID: userID, Name: u.Name}})
	return u.Name, true
}
