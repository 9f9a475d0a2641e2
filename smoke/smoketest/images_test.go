package smoketest

import (
	"archive/tar"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDockerfiles(t *testing.T) {
	// testcontainers builds through the Engine API without BuildKit, and
	// nothing can be pulled: classic syntax, FROM scratch only.
	buildKitOnly := regexp.MustCompile(`(?m)^\s*#\s*syntax=|--mount=|<<`)
	for _, b := range Binaries {
		t.Run(b, func(t *testing.T) {
			df, err := Dockerfile(b)
			require.NoError(t, err)
			text := string(df)
			assert.Regexp(t, `(?m)^FROM scratch$`, text)
			assert.Equal(t, 1, strings.Count(text, "\nFROM "), "a single stage")
			assert.NotRegexp(t, buildKitOnly, text)
			assert.NotContains(t, text, "RUN ", "a scratch image has no shell")
			assert.Contains(t, text, "COPY "+b+" /"+b)
			assert.Contains(t, text, `ENTRYPOINT ["/`+b+`"]`)
			assert.Contains(t, text, "USER 65532:65532", "run unprivileged")
		})
	}
	_, err := Dockerfile("nope")
	assert.Error(t, err)
}

func TestImageTag(t *testing.T) {
	df, bin := []byte("FROM scratch\n"), []byte("\x7fELF binary")
	tag := ImageTag(df, bin)
	assert.Regexp(t, `^sha-[0-9a-f]{20}$`, tag)
	assert.Equal(t, tag, ImageTag(df, bin), "stable: an unchanged build reuses its image")
	assert.NotEqual(t, tag, ImageTag(df, []byte("\x7fELF binary2")), "a new binary is a new image")
	assert.NotEqual(t, tag, ImageTag([]byte("FROM scratch\nUSER 1\n"), bin), "a new Dockerfile is a new image")
	assert.NotEqual(t, ImageTag([]byte("ab"), []byte("c")), ImageTag([]byte("a"), []byte("bc")), "the boundary counts")
}

func TestBuildContext(t *testing.T) {
	r, err := BuildContext("nextcloud-mcp", []byte("FROM scratch\n"), []byte("binary"))
	require.NoError(t, err)
	tr := tar.NewReader(r)
	got := map[string]tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got[h.Name] = *h
		if h.Name == "nextcloud-mcp" {
			b, _ := io.ReadAll(tr)
			assert.Equal(t, "binary", string(b))
		}
	}
	require.Len(t, got, 4, "only the Dockerfile, the binary and two empty directories")
	assert.Equal(t, int64(0o755), got["nextcloud-mcp"].Mode)
	assert.Equal(t, byte(tar.TypeDir), got["data/"].Typeflag)
	assert.Equal(t, int64(0o1777), got["tmp/"].Mode)
	assert.Contains(t, got, "Dockerfile")
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(5)
	require.NoError(t, err)
	seen := map[int]bool{}
	for _, p := range ports {
		assert.False(t, seen[p], "port %d twice", p)
		seen[p] = true
		assert.Positive(t, p)
	}
	more, err := FreePorts(5)
	require.NoError(t, err)
	for _, p := range more {
		assert.False(t, seen[p], "port %d handed out twice in one process", p)
	}
	assert.Equal(t, "http://127.0.0.1:8080", LoopbackURL(8080))
	assert.Equal(t, "127.0.0.1:8080", hostPort("http://127.0.0.1:8080"))
}
