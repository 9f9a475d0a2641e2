package smoketest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// The binaries `make build` puts in bin/, one image each.
const (
	FakeIdP       = "fake-idp"
	FakeNextcloud = "fake-nextcloud"
	Server        = "nextcloud-mcp"
)

// Binaries lists every binary the suites run, in start order.
var Binaries = []string{FakeIdP, FakeNextcloud, Server}

// ImageRepoPrefix starts the repository of every image the suites build,
// e.g. "nextcloud-mcp-go-smoke/fake-idp".
const ImageRepoPrefix = "nextcloud-mcp-go-smoke/"

//go:embed dockerfiles/*.Dockerfile
var dockerfiles embed.FS

// Dockerfile returns the Dockerfile of a binary's image.
func Dockerfile(binary string) ([]byte, error) {
	b, err := dockerfiles.ReadFile("dockerfiles/" + binary + ".Dockerfile")
	if err != nil {
		return nil, fmt.Errorf("smoketest: no Dockerfile for %q", binary)
	}
	return b, nil
}

// ImageTag is the tag of a binary's image: a digest of its Dockerfile and
// the binary itself. An unchanged build therefore finds its image and
// skips the build, and any change to either gets a new image.
func ImageTag(dockerfile, binary []byte) string {
	h := sha256.New()
	h.Write(fmt.Appendf(nil, "%d\n", len(dockerfile))) // hash writes never fail
	h.Write(dockerfile)
	h.Write(binary)
	return "sha-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// BuildContext is the whole build context of a binary's image as a tar
// archive: the Dockerfile, the binary, and the empty directories the
// server image copies (data/ owned by the container user, tmp/ with the
// sticky bit). Nothing else from the working tree is sent to the engine.
func BuildContext(name string, dockerfile, binary []byte) (*bytes.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := time.Unix(0, 0)
	entries := []struct {
		hdr  tar.Header
		body []byte
	}{
		{tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile)), ModTime: mod, Typeflag: tar.TypeReg}, dockerfile},
		{tar.Header{Name: name, Mode: 0o755, Size: int64(len(binary)), ModTime: mod, Typeflag: tar.TypeReg}, binary},
		{tar.Header{Name: "data/", Mode: 0o700, ModTime: mod, Typeflag: tar.TypeDir}, nil},
		{tar.Header{Name: "tmp/", Mode: 0o1777, ModTime: mod, Typeflag: tar.TypeDir}, nil},
	}
	for _, e := range entries {
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return nil, fmt.Errorf("smoketest: build context: %w", err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("smoketest: build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("smoketest: build context: %w", err)
	}
	return bytes.NewReader(buf.Bytes()), nil
}

// Images maps a binary name to the image reference that runs it.
type Images map[string]string

// BuildReport says what BuildImages did for one image.
type BuildReport struct {
	Binary, Ref string
	Reused      bool
	Took        time.Duration
}

// BuildImages makes sure an image exists for each binary in binDir and
// returns their references. testcontainers-go builds missing images from
// the embedded Dockerfiles (classic builder, no BuildKit) with a fixed
// repository, a content tag and KeepImage, so a second run reuses them.
// Older tags of the same repositories are removed (best effort) so
// repeated runs do not pile up images. The builds run concurrently.
func BuildImages(ctx context.Context, binDir string, binaries []string, buildLog io.Writer) (Images, []BuildReport, error) {
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, nil, fmt.Errorf("smoketest: docker provider: %w", err)
	}
	// The provider only carries the Docker client; the builds' own errors
	// are what this function reports, so a failed close is dropped.
	defer func() { _ = provider.Close() }()
	if buildLog == nil {
		buildLog = io.Discard
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		images  = Images{}
		reports = make([]BuildReport, len(binaries))
		errs    = make([]error, len(binaries))
	)
	for i, name := range binaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			ref, reused, err := ensureImage(ctx, provider, binDir, name, &lockedWriter{mu: &mu, w: buildLog})
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			images[name] = ref
			mu.Unlock()
			reports[i] = BuildReport{Binary: name, Ref: ref, Reused: reused, Took: time.Since(start)}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return images, reports, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func ensureImage(ctx context.Context, provider *testcontainers.DockerProvider, binDir, name string, buildLog io.Writer) (ref string, reused bool, err error) {
	df, err := Dockerfile(name)
	if err != nil {
		return "", false, err
	}
	path := filepath.Join(binDir, name)
	bin, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("smoketest: the %s binary is missing (%v): run `make build` (make smoke does)", name, err)
	}
	repo, tag := ImageRepoPrefix+name, ImageTag(df, bin)
	ref = repo + ":" + tag
	if _, err := provider.Client().ImageInspect(ctx, ref); err == nil {
		return ref, true, nil
	}
	archive, err := BuildContext(name, df, bin)
	if err != nil {
		return "", false, err
	}
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		ContextArchive: archive,
		Dockerfile:     "Dockerfile",
		Repo:           repo,
		Tag:            tag,
		KeepImage:      true,
		BuildLogWriter: buildLog,
	}}
	if _, err := provider.BuildImage(ctx, req); err != nil {
		return "", false, fmt.Errorf("smoketest: building image %s: %w", ref, err)
	}
	removeOtherTags(ctx, provider.Client(), repo, tag)
	return ref, false, nil
}

// removeOtherTags deletes stale tags of repo. Failures are ignored: an
// image still used by a container stays, and nothing depends on removal.
func removeOtherTags(ctx context.Context, c client.APIClient, repo, keep string) {
	list, err := c.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", repo)})
	if err != nil {
		return
	}
	for _, img := range list.Items {
		for _, rt := range img.RepoTags {
			if strings.HasPrefix(rt, repo+":") && rt != repo+":"+keep {
				_, _ = c.ImageRemove(ctx, rt, client.ImageRemoveOptions{PruneChildren: true})
			}
		}
	}
}
