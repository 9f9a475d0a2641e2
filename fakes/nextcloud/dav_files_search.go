package nextcloud

import (
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

// searchDefaultLimit is the page size Nextcloud's file search uses when the
// query sets no <d:nresults>.
const searchDefaultLimit = 100

// filesSearch is SearchDAV's SearchPlugin with Nextcloud's
// FileSearchBackend: the core serves it only on the DAV root; without an
// XML body it is left to the 501 of unhandled methods; parse errors are
// plain-text 400s.
func filesSearch(d *davReq) *davError {
	ct := d.r.Header.Get("Content-Type")
	if !strings.Contains(ct, "text/xml") && !strings.Contains(ct, "application/xml") {
		return errNotImplemented("SEARCH")
	}
	q, err := davxml.ParseSearch(d.body)
	if err != nil {
		var shape *davxml.SearchShapeError
		if errors.As(err, &shape) {
			if shape.Plain {
				d.plain400(shape.Message)
				return nil
			}
			return errBadRequest(shape.Message)
		}
		d.plain400("Parse error: " + err.Error())
		return nil
	}
	if len(q.Scopes) != 1 {
		return errBadRequest("Searching more than one folder is not supported")
	}
	scope := q.Scopes[0]
	scopePath := strings.TrimPrefix(percentDecode(scope.Href), davBase)
	segs := splitPath(scopePath)
	if len(segs) < 2 || segs[0] != "files" || segs[1] != d.auth.uid {
		return errBadRequest("Invalid search scope: only your own files can be searched")
	}
	res, rerr := resolveFiles(d, d.auth.uid, segs[2:])
	if rerr != nil {
		return rerr
	}
	scopeEntry, _ := entryOf(res)
	if !scopeEntry.node.Dir {
		return errBadRequest("The search scope must be a folder")
	}
	st := d.st()
	var candidates []*entry
	var walk func(e *entry, depth int)
	walk = func(e *entry, depth int) {
		for _, c := range st.children(e) {
			candidates = append(candidates, c)
			if c.node.Dir && (depth < 0 || depth > 1) {
				next := depth - 1
				if depth < 0 {
					next = -1
				}
				walk(c, next)
			}
		}
	}
	switch scope.Depth {
	case "0":
	case "1":
		walk(scopeEntry, 1)
	default:
		walk(scopeEntry, -1)
	}
	var matched []*entry
	for _, c := range candidates {
		ok, merr := d.matches(c, q.Where)
		if merr != nil {
			return merr
		}
		if ok {
			matched = append(matched, c)
		}
	}
	if err := d.sortEntries(matched, q.OrderBy); err != nil {
		return err
	}
	limit := q.Limit
	if limit == 0 {
		limit = searchDefaultLimit
	}
	if q.FirstRes > len(matched) {
		matched = nil
	} else {
		matched = matched[q.FirstRes:]
	}
	if len(matched) > limit {
		matched = matched[:limit]
	}
	pf := &davxml.Propfind{Props: q.Select, AllProp: q.AllProp}
	var responses []davxml.Response
	for _, e := range matched {
		r := &fileNode{e: e}
		href := encodePath(davBase + "/files/" + e.uid + e.path)
		if e.node.Dir {
			href += "/"
		}
		responses = append(responses, davxml.Response{Href: href, Propstats: d.propstats(r, pf, false)})
	}
	d.w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	d.w.WriteHeader(http.StatusMultiStatus)
	_, _ = d.w.Write(d.n.dav.namespaces.Multistatus(responses))
	return nil
}

func (d *davReq) plain400(msg string) {
	d.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	d.w.WriteHeader(http.StatusBadRequest)
	_, _ = d.w.Write([]byte(msg))
}

func unsupportedSearchProp(n davxml.Name) *davError {
	return errBadRequest("Unsupported property for search or order: " + n.Clark())
}

// searchValue is the comparable value of a searchable property.
func (d *davReq) searchValue(e *entry, n davxml.Name) (any, *davError) {
	node := e.node
	switch n {
	case nDAV("displayname"):
		return e.name, nil
	case nDAV("getcontenttype"):
		return node.MimeType, nil
	case nDAV("getlastmodified"):
		return node.MTime, nil
	case nOC("size"):
		return node.Size(), nil
	case nOC("favorite"):
		if d.st().isFavorite(d.auth.uid, node.ID) {
			return int64(1), nil
		}
		return int64(0), nil
	case nOC("fileid"):
		return node.ID, nil
	case nOC("owner-id"):
		return node.Owner, nil
	case nNC("creation_time"):
		return node.CTime, nil
	case nNC("upload_time"):
		return node.UTime, nil
	}
	return nil, unsupportedSearchProp(n)
}

// literalInt reads a numeric literal; dates (for getlastmodified) may be
// RFC 3339 or HTTP dates as well as unix timestamps.
func literalInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	for _, layout := range []string{time.RFC3339, http.TimeFormat, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// likeRegexp turns an SQL LIKE pattern into a case-insensitive regexp.
func likeRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (d *davReq) matches(e *entry, op *davxml.Op) (bool, *davError) {
	if op == nil {
		// An empty <d:where> matches nothing in Nextcloud.
		return false, nil
	}
	switch op.Kind {
	case "and", "or":
		for _, a := range op.Args {
			ok, err := d.matches(e, a)
			if err != nil {
				return false, err
			}
			if op.Kind == "or" && ok {
				return true, nil
			}
			if op.Kind == "and" && !ok {
				return false, nil
			}
		}
		return op.Kind == "and", nil
	case "not":
		ok, err := d.matches(e, op.Args[0])
		return !ok, err
	case "is-collection":
		return e.node.Dir, nil
	}
	v, err := d.searchValue(e, op.Prop)
	if err != nil {
		return false, err
	}
	switch x := v.(type) {
	case string:
		switch op.Kind {
		case "like":
			return likeRegexp(op.Literal).MatchString(x), nil
		case "eq":
			return x == op.Literal, nil
		}
		c := strings.Compare(x, op.Literal)
		return compare(c, op.Kind), nil
	case int64:
		lit, ok := literalInt(op.Literal)
		if !ok {
			return false, errBadRequest("Invalid literal for " + op.Prop.Clark() + ": " + op.Literal)
		}
		if op.Kind == "like" {
			return likeRegexp(op.Literal).MatchString(strconv.FormatInt(x, 10)), nil
		}
		c := 0
		if x < lit {
			c = -1
		} else if x > lit {
			c = 1
		}
		return compare(c, op.Kind), nil
	}
	return false, nil
}

func compare(c int, kind string) bool {
	switch kind {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	case "lte":
		return c <= 0
	}
	return false
}

func (d *davReq) sortEntries(es []*entry, orders []davxml.Order) *davError {
	for _, o := range orders {
		if o.Prop == nOC("fileid") {
			return unsupportedSearchProp(o.Prop)
		}
		if len(es) > 0 {
			if _, err := d.searchValue(es[0], o.Prop); err != nil {
				return err
			}
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		for _, o := range orders {
			a, _ := d.searchValue(es[i], o.Prop)
			b, _ := d.searchValue(es[j], o.Prop)
			c := 0
			switch x := a.(type) {
			case string:
				c = strings.Compare(strings.ToLower(x), strings.ToLower(b.(string)))
			case int64:
				y := b.(int64)
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			}
			if c != 0 {
				if o.Descending {
					return c > 0
				}
				return c < 0
			}
		}
		return es[i].node.ID < es[j].node.ID
	})
	return nil
}
