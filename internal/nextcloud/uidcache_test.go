package nextcloud

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uidServer names the uid "uid-of-<token>" for "Bearer <token>" and counts
// the lookups.
func uidServer(t *testing.T) (*recorder, func() int) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if r.URL.Path == "/ocs/v2.php/cloud/user" {
			writeJSON(w, 200, []byte(`{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"id":"uid-of-`+tok+`"}}}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	lookups := func() int {
		n := 0
		for _, s := range rec.Requests() {
			if s.Path == "/ocs/v2.php/cloud/user" {
				n++
			}
		}
		return n
	}
	return rec, lookups
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func TestUIDCacheExpires(t *testing.T) {
	rec, lookups := uidServer(t)
	base := newTestClient(t, rec, WithUIDCache(10, time.Minute))
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	base.uids.now = clock.Now
	ctx := context.Background()
	uid := func() string {
		u, err := base.WithCredentials(BearerFor("p", "t1")).UserID(ctx)
		require.NoError(t, err)
		return u
	}
	assert.Equal(t, "uid-of-t1", uid())
	clock.Add(59 * time.Second)
	assert.Equal(t, "uid-of-t1", uid())
	assert.Equal(t, 1, lookups(), "fresh within the TTL")
	clock.Add(time.Second)
	assert.Equal(t, "uid-of-t1", uid())
	assert.Equal(t, 2, lookups(), "asked again once the TTL is over")
}

func TestUIDCacheIsBounded(t *testing.T) {
	rec, lookups := uidServer(t)
	base := newTestClient(t, rec, WithUIDCache(2, time.Hour))
	ctx := context.Background()
	uid := func(principal string) {
		_, err := base.WithCredentials(BearerFor(principal, "tok-"+principal)).UserID(ctx)
		require.NoError(t, err)
	}
	uid("a")
	uid("b")
	uid("a") // a is now the most recently used
	uid("c") // evicts b
	assert.Equal(t, 3, lookups())
	assert.Equal(t, 2, base.uids.len(), "never more than the bound")
	uid("a")
	assert.Equal(t, 3, lookups(), "a survived: least recently used goes first")
	uid("b")
	assert.Equal(t, 4, lookups(), "b was evicted")
}

func TestUIDCachePrincipalsNeverShare(t *testing.T) {
	rec, lookups := uidServer(t)
	base := newTestClient(t, rec)
	ctx := context.Background()
	a, err := base.WithCredentials(BearerFor("alice-sub", "tok-a")).UserID(ctx)
	require.NoError(t, err)
	b, err := base.WithCredentials(BearerFor("bob-sub", "tok-b")).UserID(ctx)
	require.NoError(t, err)
	assert.Equal(t, "uid-of-tok-a", a)
	assert.Equal(t, "uid-of-tok-b", b)
	a2, err := base.WithCredentials(BearerFor("alice-sub", "tok-a2")).UserID(ctx)
	require.NoError(t, err)
	assert.Equal(t, "uid-of-tok-a", a2, "one principal, another token: the cached uid")
	assert.Equal(t, 2, lookups())

	other := newTestClient(t, rec)
	_, err = other.WithCredentials(BearerFor("alice-sub", "tok-a")).UserID(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, lookups(), "clients from another New share nothing")
}

func TestUIDCacheFailuresAreNotCached(t *testing.T) {
	var mu sync.Mutex
	fail := true
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			writeJSON(w, 401, fixture(t, "ocs_997_v2.json"))
			return
		}
		writeJSON(w, 200, fixture(t, "ocs_user_v2.json"))
	})
	c := newTestClient(t, rec).WithCredentials(BearerFor("p", "t"))
	_, err := c.UserID(context.Background())
	require.True(t, IsUnauthorized(err), "err = %v", err)
	mu.Lock()
	fail = false
	mu.Unlock()
	uid, err := c.UserID(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "alice", uid)
	assert.Empty(t, c.WithCredentials(Anonymous()).key, "anonymous credentials cache nothing")
}

func TestPrincipalKeysHoldNoSecret(t *testing.T) {
	salt := []byte("per-process key")
	tests := []struct {
		name  string
		creds Credentials
		want  string // "" with prefix: only the prefix is fixed
		pre   string
	}{
		{name: "Basic keys on the login name", creds: Basic("alice", testPassword), want: "login:alice"},
		{name: "a named principal", creds: BearerFor("sub-123", testToken), want: "principal:sub-123"},
		{name: "a bare token: keyed hash", creds: Bearer(testToken), pre: "token:"},
		{name: "BearerFor without principal is Bearer", creds: BearerFor("", testToken), pre: "token:"},
		{name: "anonymous: none", creds: Anonymous(), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.creds.principalKey(salt)
			if tt.pre != "" {
				assert.True(t, strings.HasPrefix(k, tt.pre), "key %q", k)
				assert.Len(t, k, len(tt.pre)+64)
			} else {
				assert.Equal(t, tt.want, k)
			}
			assert.NotContains(t, k, testToken)
			assert.NotContains(t, k, testPassword)
		})
	}
	assert.NotEqual(t, Bearer(testToken).principalKey(salt), Bearer(testToken).principalKey([]byte("another process")),
		"the token hash is keyed per process")
}
