package nextcloud

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/davxml"
)

func nDAV(l string) davxml.Name { return davxml.Name{Space: davxml.NSDAV, Local: l} }
func nOC(l string) davxml.Name  { return davxml.Name{Space: davxml.NSOwnCloud, Local: l} }
func nNC(l string) davxml.Name  { return davxml.Name{Space: davxml.NSNextcloud, Local: l} }

// allProps is what sabre's PropFind answers for allprop (and an empty
// body): these live properties when the node has them, plus dead ones.
var allProps = []davxml.Name{
	nDAV("getlastmodified"), nDAV("getcontentlength"), nDAV("resourcetype"), nDAV("quota-used-bytes"),
	nDAV("quota-available-bytes"), nDAV("getetag"), nDAV("getcontenttype"),
}

// protectedProps are Server::$protectedProperties plus the ones
// FilesPlugin adds (getetag is taken off again): PROPPATCH answers 403.
var protectedProps = map[davxml.Name]bool{
	nDAV("getcontentlength"): true, nDAV("lockdiscovery"): true, nDAV("supportedlock"): true,
	nDAV("quota-available-bytes"): true, nDAV("quota-used-bytes"): true, nDAV("supported-privilege-set"): true,
	nDAV("current-user-privilege-set"): true, nDAV("acl"): true, nDAV("acl-restrictions"): true, nDAV("inherited-acl-set"): true,
	nDAV("supported-method-set"): true, nDAV("supported-report-set"): true, nDAV("sync-token"): true,
	{Space: "http://calendarserver.org/ns/", Local: "ctag"}: true, {Space: davxml.NSSabre, Local: "sync-token"}: true,
	nOC("id"): true, nOC("fileid"): true, nOC("permissions"): true, {Space: davxml.NSOCS, Local: "share-permissions"}: true,
	{Space: davxml.NSOCM, Local: "share-permissions"}: true, nNC("share-attributes"): true, nOC("size"): true,
	nOC("downloadURL"): true, nOC("owner-id"): true, nOC("owner-display-name"): true, nOC("checksums"): true,
	nOC("data-fingerprint"): true, nNC("has-preview"): true, nNC("mount-type"): true, nNC("is-federated"): true, nNC("note"): true,
}

func httpDate(unix int64) string { return time.Unix(unix, 0).UTC().Format(http.TimeFormat) }

func (d *davReq) principalHref(uid string) string {
	return encodePath("/remote.php/dav/principals/users/" + uid + "/")
}

// liveProp computes a live property of res; ok false when the resource does
// not have it (a 404 propstat unless a dead property of that name exists).
// explicit marks properties named in the request (the folder counts are
// only computed then, as in FilesPlugin).
func (d *davReq) liveProp(res *davRes, n davxml.Name, explicit bool) (string, bool) {
	st := d.st()
	switch n {
	case nDAV("current-user-principal"):
		return "<d:href>" + d.principalHref(d.auth.uid) + "</d:href>", true
	case nDAV("resourcetype"):
		switch {
		case res.kind == resPrincipal:
			return "<d:principal/>", true
		case res.isCollection():
			return "<d:collection/>", true
		}
		return "", true
	}
	switch res.kind {
	case resPrincipal:
		u := st.users[res.uid]
		switch n {
		case nDAV("displayname"):
			return davxml.EscapeText(u.DisplayName), true
		case nDAV("principal-URL"):
			return "<d:href>" + d.principalHref(res.uid) + "</d:href>", true
		case davxml.Name{Space: davxml.NSSabre, Local: "email-address"}:
			if u.Email != "" {
				return davxml.EscapeText(u.Email), true
			}
		case nDAV("alternate-URI-set"):
			if u.Email != "" {
				return "<d:href>mailto:" + davxml.EscapeText(u.Email) + "</d:href>", true
			}
			return "", true
		}
		return "", false
	case resEntry:
	default:
		return "", false
	}
	e := res.e
	node := e.node
	text := func(s string) (string, bool) { return davxml.EscapeText(s), true }
	switch n {
	case nDAV("getlastmodified"):
		return text(httpDate(node.MTime))
	case nDAV("getetag"):
		return text(`"` + st.etagFor(e) + `"`)
	case nDAV("getcontentlength"):
		if !node.Dir {
			return text(strconv.Itoa(len(node.Content)))
		}
	case nDAV("getcontenttype"):
		if !node.Dir {
			return text(node.MimeType)
		}
	case nDAV("displayname"):
		return text(e.name)
	case nDAV("creationdate"):
		return text(time.Unix(node.CTime, 0).UTC().Format("2006-01-02T15:04:05+00:00"))
	case nDAV("quota-used-bytes"):
		if node.Dir {
			return text(strconv.FormatInt(node.Size(), 10))
		}
	case nDAV("quota-available-bytes"):
		if node.Dir {
			return text("-3")
		}
	case nOC("id"):
		return text(st.fileID(node.ID))
	case nOC("fileid"):
		return text(strconv.FormatInt(node.ID, 10))
	case nOC("permissions"):
		return text(davPermissions(e))
	case nOC("size"):
		return text(strconv.FormatInt(node.Size(), 10))
	case nOC("favorite"):
		if st.isFavorite(d.auth.uid, node.ID) {
			return text("1")
		}
		return text("0")
	case nOC("owner-id"):
		return text(node.Owner)
	case nOC("owner-display-name"):
		if u := st.users[node.Owner]; u != nil {
			return text(u.DisplayName)
		}
		return text(node.Owner)
	case nOC("share-types"):
		var b strings.Builder
		seen := map[int]bool{}
		for _, sh := range st.sortedShares() {
			if sh.NodeID == node.ID && sh.SharedBy == d.auth.uid && !seen[sh.Type] {
				seen[sh.Type] = true
				b.WriteString("<oc:share-type>" + strconv.Itoa(sh.Type) + "</oc:share-type>")
			}
		}
		return b.String(), true
	case nOC("tags"):
		return "", true
	case nOC("data-fingerprint"):
		return "", true
	case nNC("has-preview"):
		return text("false")
	case nNC("mount-type"):
		if e.share != nil {
			return text("shared")
		}
		return "", true
	case nNC("is-mount-root"):
		if e.mountRoot {
			return text("true")
		}
		return text("false")
	case nNC("is-federated"):
		return "", true
	case nNC("hidden"):
		return text("false")
	case nNC("creation_time"):
		return text(strconv.FormatInt(node.CTime, 10))
	case nNC("upload_time"):
		if !node.Dir {
			return text(strconv.FormatInt(node.UTime, 10))
		}
	case nNC("last_activity"):
		return text(strconv.FormatInt(node.MTime, 10))
	case nNC("share-attributes"):
		return text("[]")
	case nNC("note"):
		if e.share != nil && e.share.Note != "" {
			return text(e.share.Note)
		}
	case nNC("contained-file-count"), nNC("contained-folder-count"):
		if node.Dir && explicit {
			files, folders := 0, 0
			for _, c := range st.children(e) {
				if c.node.Dir {
					folders++
				} else {
					files++
				}
			}
			if n.Local == "contained-file-count" {
				return text(strconv.Itoa(files))
			}
			return text(strconv.Itoa(folders))
		}
	case davxml.Name{Space: davxml.NSOCS, Local: "share-permissions"}:
		return text(strconv.Itoa(sharePermissions(e)))
	case davxml.Name{Space: davxml.NSOCM, Local: "share-permissions"}:
		return text(ocmPermissions(sharePermissions(e)))
	}
	return "", false
}

// deadProps returns the dead properties of res in name order.
func (d *davReq) deadProps(res *davRes) []davxml.Prop {
	if res.kind != resEntry {
		return nil
	}
	var out []davxml.Prop
	keys := make([]string, 0, len(res.e.node.Props))
	for k := range res.e.node.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n, ok := davxml.ParseClark(k); ok {
			out = append(out, davxml.Prop{Name: n, XML: res.e.node.Props[k]})
		}
	}
	return out
}

// propstats answers one PROPFIND for one resource.
func (d *davReq) propstats(res *davRes, pf *davxml.Propfind, minimal bool) []davxml.Propstat {
	var ok, missing []davxml.Prop
	switch {
	case pf.PropName:
		for _, n := range allProps {
			if _, has := d.liveProp(res, n, false); has {
				ok = append(ok, davxml.Prop{Name: n})
			}
		}
		for _, p := range d.deadProps(res) {
			ok = append(ok, davxml.Prop{Name: p.Name})
		}
	case pf.AllProp:
		names := append(append([]davxml.Name{}, allProps...), pf.Include...)
		seen := map[davxml.Name]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			if v, has := d.liveProp(res, n, false); has {
				ok = append(ok, davxml.Prop{Name: n, XML: v})
			}
		}
		for _, p := range d.deadProps(res) {
			if !seen[p.Name] {
				ok = append(ok, p)
			}
		}
	default:
		for _, n := range pf.Props {
			if v, has := d.liveProp(res, n, true); has {
				ok = append(ok, davxml.Prop{Name: n, XML: v})
				continue
			}
			if res.kind == resEntry {
				if v, has := res.e.node.Props[n.Clark()]; has {
					ok = append(ok, davxml.Prop{Name: n, XML: v})
					continue
				}
			}
			missing = append(missing, davxml.Prop{Name: n})
		}
	}
	out := []davxml.Propstat{{Status: http.StatusOK, Props: ok}}
	if !minimal {
		out = append(out, davxml.Propstat{Status: http.StatusNotFound, Props: missing})
	}
	return out
}

// preferMinimal is Server::getHTTPPrefer()['return'] === 'minimal'.
func (d *davReq) preferMinimal() bool {
	if p := d.r.Header.Get("Prefer"); p != "" {
		for _, part := range strings.Split(p, ",") {
			if strings.TrimSpace(part) == "return=minimal" {
				return true
			}
		}
		return false
	}
	return d.r.Header.Get("Brief") == "t"
}

// propfind is CorePlugin::httpPropFind with Nextcloud's Depth infinity on;
// a missing or unparsable Depth counts as 1 (getHTTPDepth(1)).
func (d *davReq) propfind() *davError {
	pf, perr := davxml.ParsePropfind(d.body)
	if perr != nil {
		return errBadRequest(perr.Error())
	}
	depth := 1
	switch h := d.r.Header.Get("Depth"); {
	case h == "infinity":
		depth = -1
	case h != "" && isDigits(h):
		if v, err := strconv.Atoi(h); err == nil {
			depth = v
		}
	}
	res, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	minimal := d.preferMinimal()
	var responses []davxml.Response
	var walk func(r *davRes, depth int)
	walk = func(r *davRes, depth int) {
		responses = append(responses, davxml.Response{Href: d.href(r), Propstats: d.propstats(r, pf, minimal)})
		if depth == 0 || !r.isCollection() {
			return
		}
		for _, c := range d.children(r) {
			next := depth - 1
			if depth < 0 {
				next = -1
			}
			walk(c, next)
		}
	}
	walk(res, depth)
	d.writeMultistatus(responses)
	return nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func (d *davReq) writeMultistatus(rs []davxml.Response) {
	h := d.w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Vary", "Brief,Prefer")
	h.Set("DAV", "1, 3, extended-mkcol, access-control, calendarserver-principal-property-search, nextcloud-checksum-update")
	d.w.WriteHeader(http.StatusMultiStatus)
	_, _ = d.w.Write(davNamespaces.Multistatus(rs))
}

// proppatch is CorePlugin::httpPropPatch with Nextcloud's handlers: the
// protected properties fail with 403 (and everything else with 424), the
// favourite is a tag, lastmodified touches, displayname is refused, the
// rest are stored as dead properties.
func (d *davReq) proppatch() *davError {
	ops, perr := davxml.ParsePropertyUpdate(d.body)
	if perr != nil {
		return errBadRequest(perr.Error())
	}
	res, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	results := make([]int, len(ops))
	failed := false
	for i, op := range ops {
		switch {
		case protectedProps[op.Name]:
			results[i] = http.StatusForbidden
		case op.Name == nDAV("displayname") && res.kind == resEntry:
			results[i] = http.StatusForbidden
		case res.kind != resEntry:
			results[i] = http.StatusForbidden
		case op.Name == nDAV("lastmodified") && !op.Remove:
			if _, perr := strconv.ParseInt(strings.TrimSpace(op.Text), 10, 64); perr != nil {
				if _, terr := http.ParseTime(strings.TrimSpace(op.Text)); terr != nil {
					results[i] = http.StatusBadRequest
				}
			}
		}
		if results[i] != 0 {
			failed = true
		}
	}
	if !failed {
		st := d.st()
		node := res.e.node
		for i, op := range ops {
			results[i] = http.StatusOK
			switch {
			case op.Name == nOC("favorite"):
				v := strings.TrimSpace(op.Text)
				st.setFavorite(d.auth.uid, node.ID, !op.Remove && (v == "1" || strings.EqualFold(v, "true")))
			case op.Name == nDAV("lastmodified") && !op.Remove:
				t, perr := strconv.ParseInt(strings.TrimSpace(op.Text), 10, 64)
				if perr != nil {
					pt, _ := http.ParseTime(strings.TrimSpace(op.Text))
					t = pt.Unix()
				}
				st.fs.Touch(node, t)
			case op.Remove:
				st.fs.SetProp(node, op.Name.Clark(), nil)
			default:
				v := op.Value
				st.fs.SetProp(node, op.Name.Clark(), &v)
			}
		}
		d.changed = true
	} else {
		for i := range results {
			if results[i] == 0 {
				results[i] = http.StatusFailedDependency
			}
		}
	}
	if d.preferMinimal() && !failed {
		d.w.Header().Set("Vary", "Brief,Prefer")
		d.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	byStatus := map[int][]davxml.Prop{}
	var order []int
	for i, op := range ops {
		if _, seen := byStatus[results[i]]; !seen {
			order = append(order, results[i])
		}
		byStatus[results[i]] = append(byStatus[results[i]], davxml.Prop{Name: op.Name})
	}
	var pss []davxml.Propstat
	for _, s := range order {
		pss = append(pss, davxml.Propstat{Status: s, Props: byStatus[s]})
	}
	d.writeMultistatus([]davxml.Response{{Href: d.href(res), Propstats: pss}})
	return nil
}

// report handles REPORT: oc:filter-files (favourites), 415 for any other.
func (d *davReq) report() *davError {
	root, perr := davxml.ReportName(d.body)
	if perr != nil {
		return errBadRequest(perr.Error())
	}
	if root.Name != nOC("filter-files") {
		return &davError{status: http.StatusUnsupportedMediaType, exception: `Sabre\DAV\Exception\ReportNotSupported`, message: ""}
	}
	res, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	ff := davxml.ParseFilterFiles(root)
	if root.Child(nOC("filter-rules")) == nil {
		return errBadRequest("Missing filter-rule block in request")
	}
	if len(ff.SystemTag) > 0 {
		return errPrecondition("Cannot filter by non-existing tag", "")
	}
	var responses []davxml.Response
	if ff.Favorite && res.kind == resEntry {
		pf := &davxml.Propfind{Props: ff.Props, AllProp: len(ff.Props) == 0}
		var walk func(e *entry)
		walk = func(e *entry) {
			for _, c := range d.st().children(e) {
				if d.st().isFavorite(d.auth.uid, c.node.ID) {
					r := &davRes{kind: resEntry, e: c}
					responses = append(responses, davxml.Response{Href: d.href(r), Propstats: d.propstats(r, pf, false)})
				}
				if c.node.Dir {
					walk(c)
				}
			}
		}
		walk(res.e)
	}
	d.writeMultistatus(responses)
	return nil
}
