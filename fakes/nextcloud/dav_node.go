package nextcloud

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// The DAV tree follows sabre/dav's design: the core (dav*.go) is sabre's
// Server with its CorePlugin, generic over nodes; apps mount collections
// below /remote.php/dav and hook into every request the way sabre's
// ServerPlugins do (davPlugin). What a node can do is the set of node
// interfaces below it implements, as in Sabre\DAV\INode, ICollection, IFile
// and IProperties: a node without them is read-only, and the core answers
// for it as sabre answers for its generic collections.

// davNode is a resource in the DAV tree.
type davNode interface {
	// davPath is the unescaped path below the endpoint's base: "/" for the
	// root, collections with a trailing slash.
	davPath(d *davReq) string
	isCollection() bool
	// children lists a collection (Depth 1 and infinity, REPORTs).
	children(d *davReq) []davNode
	// prop is a live property of the node (sabre's propFind handlers);
	// false when the node does not have it. explicit marks properties the
	// request names (some are only computed then). {DAV:}resourcetype
	// defaults to the collection flag when the node leaves it unanswered.
	prop(d *davReq, name davxml.Name, explicit bool) (string, bool)
}

// davDeadProps is a node that stores dead properties (sabre's PropertyStorage
// plugin): Clark name → inner XML.
type davDeadProps interface {
	deadProps() map[string]string
}

// davConditional is a node that takes part in conditional requests
// (Server::checkPreconditions): fileETag is IFile::getETag, quoted, and ""
// for a collection; lastModified is the mtime in unix seconds.
type davConditional interface {
	fileETag(d *davReq) string
	lastModified() int64
}

// davGettable is a file with content (IFile::get); the core answers GET on
// collections itself.
type davGettable interface {
	get(d *davReq) *davError
}

// davPatchable is a node whose properties PROPPATCH may change
// (IProperties::propPatch): checkPatch returns the status an update would
// fail with, 0 when it would succeed; applyPatch runs once every update
// passed.
type davPatchable interface {
	checkPatch(d *davReq, op davxml.PropOp) int
	applyPatch(d *davReq, op davxml.PropOp)
}

// davDeletable is a node DELETE may remove (INode::delete).
type davDeletable interface {
	delete(d *davReq) *davError
}

// davCollectionMaker is a collection MKCOL may create children in
// (ICollection::createDirectory, IExtendedCollection::createExtendedCollection);
// it answers the response headers, the core the 201.
type davCollectionMaker interface {
	mkcol(d *davReq, name string, props []davxml.PropOp) *davError
}

// davMovable is a node MOVE and COPY may take as source once sabre's
// checks passed (Tree::move, Tree::copy and the plugins' beforeMove and
// beforeCopy); it writes the response.
type davMovable interface {
	moveCopy(d *davReq, cm *copyMove, move bool) *davError
}

// davListGuard is a collection whose listing fails (sabre's
// getChildren throwing, e.g. MethodNotAllowed when listing is disabled):
// PROPFIND with Depth above 0 answers listError.
type davListGuard interface {
	listError() *davError
}

// davPreconditionTarget is a collection whose requests may have their
// If-Match and If-None-Match evaluated against another path than the
// request's (the chunked upload's assembly MOVE guards its destination).
type davPreconditionTarget interface {
	preconditionTarget(d *davReq) (segs []string, ok bool)
}

// davCollection is a collection an app mounts at /remote.php/dav/<name>
// (apps/dav/lib/RootCollection.php builds the real ones).
type davCollection interface {
	// name is the collection's segment below the DAV root.
	name() string
	// resolve finds the node at rest, the segments below name; an empty
	// rest is the collection itself. A missing node is a 404 davError.
	resolve(d *davReq, rest []string) (davNode, *davError)
	// serve handles the request method itself when the request path lies in
	// the collection and reports whether it did; unhandled methods get the
	// core's generic handling. PROPFIND, REPORT, SEARCH and OPTIONS never
	// come here.
	serve(d *davReq) (bool, *davError)
	// methods are methods the collection adds to Allow for node
	// (ServerPlugin::getHTTPMethods), e.g. MKCALENDAR.
	methods(d *davReq, node davNode) []string
}

// davLegacyEndpoint is a collection also served at a base of its own, with
// another root: Nextcloud's remote.php/webdav serves the user's files
// (apps/dav/appinfo/v1/webdav.php).
type davLegacyEndpoint interface {
	davCollection
	legacyBase() string
	resolveLegacy(d *davReq, segs []string) (davNode, *davError)
}

// davPlugin is an app's part of the DAV server, after sabre's ServerPlugin:
// collections to mount, the namespace prefixes it declares on multistatus
// roots (Server::$xml->namespaceMap), and hooks that run for nodes of every
// collection. Nil hooks do nothing.
type davPlugin struct {
	collections []davCollection
	namespaces  davxml.Namespaces
	// prop answers a property of any node the node itself left
	// unanswered (a propFind handler of another plugin).
	prop func(d *davReq, node davNode, name davxml.Name) (string, bool)
	// report serves a REPORT whose root element root names and reports
	// whether it did; one that no plugin serves is a 415.
	report func(d *davReq, root *davxml.Element) (bool, *davError)
	// search serves SEARCH on the DAV root; the first app with one is the
	// backend (SearchDAV takes exactly one).
	search func(d *davReq) *davError
}

// davServer is the DAV tree the registered apps make: built once per fake.
type davServer struct {
	collections map[string]davCollection
	ordered     []davCollection // by name: the DAV root's children
	legacy      []davLegacyEndpoint
	namespaces  davxml.Namespaces
	plugins     []*davPlugin
	search      func(d *davReq) *davError
}

func newDAVServer(apps []app) (*davServer, error) {
	s := &davServer{collections: map[string]davCollection{}}
	for _, a := range apps {
		p := a.dav()
		if p == nil {
			continue
		}
		s.plugins = append(s.plugins, p)
		s.namespaces = append(s.namespaces, p.namespaces...)
		if s.search == nil {
			s.search = p.search
		}
		for _, c := range p.collections {
			n := c.name()
			if n == "" || strings.Contains(n, "/") || s.collections[n] != nil {
				return nil, fmt.Errorf("nextcloud: app %s: DAV collection name %q is empty, has a slash or is taken", a.id(), n)
			}
			s.collections[n] = c
			s.ordered = append(s.ordered, c)
			if l, ok := c.(davLegacyEndpoint); ok {
				s.legacy = append(s.legacy, l)
			}
		}
	}
	sort.Slice(s.ordered, func(i, j int) bool { return s.ordered[i].name() < s.ordered[j].name() })
	return s, nil
}

func (s *davServer) collection(name string) davCollection { return s.collections[name] }

// serves reports whether path (decoded) is a DAV entry point.
func (s *davServer) serves(path string) bool {
	if path == davBase || strings.HasPrefix(path, davBase+"/") {
		return true
	}
	for _, l := range s.legacy {
		if b := l.legacyBase(); path == b || strings.HasPrefix(path, b+"/") {
			return true
		}
	}
	return false
}

// legacyFor is the legacy endpoint an escaped request path lies below.
func (s *davServer) legacyFor(escapedPath string) davLegacyEndpoint {
	for _, l := range s.legacy {
		if strings.HasPrefix(escapedPath, l.legacyBase()) {
			return l
		}
	}
	return nil
}

// davRoot is /remote.php/dav itself: a read-only collection of the
// mounted collections.
type davRoot struct{}

func (davRoot) davPath(*davReq) string { return "/" }
func (davRoot) isCollection() bool     { return true }
func (davRoot) children(d *davReq) []davNode {
	var out []davNode
	for _, c := range d.n.dav.ordered {
		if node, err := c.resolve(d, nil); err == nil {
			out = append(out, node)
		}
	}
	return out
}
func (davRoot) prop(*davReq, davxml.Name, bool) (string, bool) { return "", false }
