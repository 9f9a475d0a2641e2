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

// protectedProps are sabre's Server::$protectedProperties (with the
// CalDAV/CardDAV ctag and sync-token): PROPPATCH answers 403 for them on
// any node. Collections protect their own live properties in checkPatch.
var protectedProps = map[davxml.Name]bool{
	nDAV("getcontentlength"): true, nDAV("lockdiscovery"): true, nDAV("supportedlock"): true,
	nDAV("quota-available-bytes"): true, nDAV("quota-used-bytes"): true, nDAV("supported-privilege-set"): true,
	nDAV("current-user-privilege-set"): true, nDAV("acl"): true, nDAV("acl-restrictions"): true, nDAV("inherited-acl-set"): true,
	nDAV("supported-method-set"): true, nDAV("supported-report-set"): true, nDAV("sync-token"): true,
	{Space: "http://calendarserver.org/ns/", Local: "ctag"}: true, {Space: davxml.NSSabre, Local: "sync-token"}: true,
}

func httpDate(unix int64) string { return time.Unix(unix, 0).UTC().Format(http.TimeFormat) }

// liveProp computes a live property of node: the node's own, then the
// plugins' (current-user-principal, share-types, …), then the default
// resourcetype. ok false: the node does not have it (a 404 propstat unless
// a dead property of that name exists).
func (d *davReq) liveProp(node davNode, n davxml.Name, explicit bool) (string, bool) {
	if v, ok := node.prop(d, n, explicit); ok {
		return v, true
	}
	for _, p := range d.n.dav.plugins {
		if p.prop == nil {
			continue
		}
		if v, ok := p.prop(d, node, n); ok {
			return v, true
		}
	}
	if n == nDAV("resourcetype") {
		if node.isCollection() {
			return "<d:collection/>", true
		}
		return "", true
	}
	return "", false
}

// deadProps returns the dead properties of node in name order.
func deadProps(node davNode) []davxml.Prop {
	dp, ok := node.(davDeadProps)
	if !ok {
		return nil
	}
	props := dp.deadProps()
	var out []davxml.Prop
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n, ok := davxml.ParseClark(k); ok {
			out = append(out, davxml.Prop{Name: n, XML: props[k]})
		}
	}
	return out
}

// deadProp returns one dead property of node.
func deadProp(node davNode, n davxml.Name) (string, bool) {
	dp, ok := node.(davDeadProps)
	if !ok {
		return "", false
	}
	v, ok := dp.deadProps()[n.Clark()]
	return v, ok
}

// propstats answers one PROPFIND for one resource.
func (d *davReq) propstats(res davNode, pf *davxml.Propfind, minimal bool) []davxml.Propstat {
	var ok, missing []davxml.Prop
	switch {
	case pf.PropName:
		for _, n := range allProps {
			if _, has := d.liveProp(res, n, false); has {
				ok = append(ok, davxml.Prop{Name: n})
			}
		}
		for _, p := range deadProps(res) {
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
		for _, p := range deadProps(res) {
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
			if v, has := deadProp(res, n); has {
				ok = append(ok, davxml.Prop{Name: n, XML: v})
				continue
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
	var walk func(r davNode, depth int) *davError
	walk = func(r davNode, depth int) *davError {
		responses = append(responses, davxml.Response{Href: d.href(r), Propstats: d.propstats(r, pf, minimal)})
		if depth == 0 || !r.isCollection() {
			return nil
		}
		if g, ok := r.(davListGuard); ok {
			if err := g.listError(); err != nil {
				return err
			}
		}
		for _, c := range r.children(d) {
			next := depth - 1
			if depth < 0 {
				next = -1
			}
			if err := walk(c, next); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(res, depth); err != nil {
		return err
	}
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
	h.Set("DAV", davHeader)
	d.w.WriteHeader(http.StatusMultiStatus)
	_, _ = d.w.Write(d.n.dav.namespaces.Multistatus(rs))
}

// proppatch is CorePlugin::httpPropPatch: every update is checked first
// (the protected properties and every update of a node that stores none
// fail with 403), and only when all pass are they applied; otherwise the
// failures keep their status and the rest get 424.
func (d *davReq) proppatch() *davError {
	ops, perr := davxml.ParsePropertyUpdate(d.body)
	if perr != nil {
		return errBadRequest(perr.Error())
	}
	res, err := d.resolve(d.segs)
	if err != nil {
		return err
	}
	patcher, patchable := res.(davPatchable)
	results := make([]int, len(ops))
	failed := false
	for i, op := range ops {
		switch {
		case protectedProps[op.Name], !patchable:
			results[i] = http.StatusForbidden
		default:
			results[i] = patcher.checkPatch(d, op)
		}
		if results[i] != 0 {
			failed = true
		}
	}
	if !failed {
		for i, op := range ops {
			results[i] = http.StatusOK
			patcher.applyPatch(d, op)
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

// report is REPORT: the first plugin that knows the report serves it; 415
// for any other (sabre's ReportNotSupported).
func (d *davReq) report() *davError {
	root, perr := davxml.ReportName(d.body)
	if perr != nil {
		return errBadRequest(perr.Error())
	}
	for _, p := range d.n.dav.plugins {
		if p.report == nil {
			continue
		}
		if handled, err := p.report(d, root); handled {
			return err
		}
	}
	return &davError{status: http.StatusUnsupportedMediaType, exception: `Sabre\DAV\Exception\ReportNotSupported`, message: ""}
}
