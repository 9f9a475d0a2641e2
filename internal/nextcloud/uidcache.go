package nextcloud

import (
	"container/list"
	"sync"
	"time"
)

// uidCache remembers the uid Nextcloud named for each authenticated
// principal, so that building a DAV path (/remote.php/dav/files/{uid}/...)
// does not cost a GET /ocs/v2.php/cloud/user on every call. A base Client
// and every copy WithCredentials makes share one cache; in exchange mode
// each call carries a freshly exchanged token for the same user, hence the
// principal key (see Credentials.principalKey) rather than the token.
//
// It is bounded twice: at most max entries (the least recently used goes
// first) and each for ttl after Nextcloud named it. Concurrent misses for
// one principal may each ask Nextcloud; they store the same answer.
type uidCache struct {
	salt [32]byte // keys the hash of bare bearer tokens

	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	items map[string]*list.Element // of *uidEntry
	order *list.List               // front: most recently used
}

type uidEntry struct {
	key, uid string
	expires  time.Time
}

func newUIDCache(max int, ttl time.Duration) *uidCache {
	return &uidCache{
		salt:  newSalt(),
		max:   max,
		ttl:   ttl,
		now:   time.Now,
		items: make(map[string]*list.Element),
		order: list.New(),
	}
}

// get returns key's uid when it is cached and fresh.
func (u *uidCache) get(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	el, ok := u.items[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*uidEntry)
	if !u.now().Before(e.expires) {
		u.order.Remove(el)
		delete(u.items, key)
		return "", false
	}
	u.order.MoveToFront(el)
	return e.uid, true
}

// put remembers key's uid for ttl, evicting the least recently used entry
// when the cache is full.
func (u *uidCache) put(key, uid string) {
	if key == "" || uid == "" {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	exp := u.now().Add(u.ttl)
	if el, ok := u.items[key]; ok {
		e := el.Value.(*uidEntry)
		e.uid, e.expires = uid, exp
		u.order.MoveToFront(el)
		return
	}
	for u.order.Len() >= u.max {
		last := u.order.Back()
		u.order.Remove(last)
		delete(u.items, last.Value.(*uidEntry).key)
	}
	u.items[key] = u.order.PushFront(&uidEntry{key: key, uid: uid, expires: exp})
}

// len reports the number of entries, fresh or not.
func (u *uidCache) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.order.Len()
}
