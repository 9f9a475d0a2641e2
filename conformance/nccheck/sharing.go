package nccheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

const sharesAPI = "/ocs/v2.php/apps/files_sharing/api/v1/shares"

// shareData is the part of an OCS share the checks read.
type shareData struct {
	ID          json.Number `json:"id"`
	ShareType   int         `json:"share_type"`
	Permissions int         `json:"permissions"`
	Token       string      `json:"token"`
	URL         string      `json:"url"`
	Path        string      `json:"path"`
}

// ocsShare sends one share API request and decodes its envelope.
func ocsShare(ctx context.Context, t *grade.Target, method, path string, form url.Values) (*answer, *ocsEnvelope, error) {
	hdr := map[string]string{}
	for k, v := range ocsHeaders {
		hdr[k] = v
	}
	var body []byte
	if form != nil {
		hdr["Content-Type"] = "application/x-www-form-urlencoded"
		body = []byte(form.Encode())
	}
	a, err := do(ctx, t, method, path, hdr, body, true)
	if err != nil {
		return nil, nil, err
	}
	e, err := decodeOCS(a)
	return a, e, err
}

// SharePublicLink: the files_sharing OCS API
// (apps/files_sharing/lib/Controller/ShareAPIController.php) — creating a
// public link (shareType 3) answers 200 / statuscode 200 with the share's
// id, token and url; listing by path finds it; DELETE answers 200; the
// share is then 404 (statuscode 404 on v2).
func SharePublicLink(ctx context.Context, t *grade.Target) grade.Outcome {
	files, work, o := needDAV(ctx, t)
	if o != nil {
		return *o
	}
	file := work + "/shared.txt"
	if a, err := do(ctx, t, http.MethodPut, file, nil, []byte("shared by the conformance suite"), true); err != nil || a.Status != http.StatusCreated {
		return grade.Failf("PUT %s failed: %v %v", short(file), err, a)
	}
	rel, err := url.PathUnescape(strings.TrimPrefix(file, files))
	if err != nil {
		return grade.Errorf("share path", err)
	}
	a, e, err := ocsShare(ctx, t, http.MethodPost, sharesAPI, url.Values{"path": {rel}, "shareType": {"3"}, "permissions": {"1"}})
	if err != nil {
		return grade.Errorf("POST shares", err)
	}
	if a.Status != http.StatusOK || e.OCS.Meta.StatusCode != http.StatusOK {
		return grade.Failf("POST shares (public link): HTTP %d statuscode %d %q", a.Status, e.OCS.Meta.StatusCode, e.OCS.Meta.Message)
	}
	var sh shareData
	if err := json.Unmarshal(e.OCS.Data, &sh); err != nil {
		return grade.Failf("POST shares: data is not a share: %.200s", e.OCS.Data)
	}
	if sh.ID == "" || sh.ShareType != 3 || sh.Token == "" || sh.URL == "" {
		return grade.Failf("POST shares: want an id, share_type 3, a token and a url, got %.300s", e.OCS.Data)
	}
	ev := []string{fmt.Sprintf("POST shares → 200/200 id %s", sh.ID)}

	a, e, err = ocsShare(ctx, t, http.MethodGet, sharesAPI+"?path="+url.QueryEscape(rel), nil)
	if err != nil {
		return grade.Errorf("GET shares?path", err)
	}
	var list []shareData
	if a.Status != http.StatusOK || json.Unmarshal(e.OCS.Data, &list) != nil {
		return grade.Failf("GET shares?path=%s: HTTP %d %.200s", rel, a.Status, a.Body)
	}
	found := false
	for _, x := range list {
		found = found || x.ID == sh.ID
	}
	if !found {
		return grade.Failf("GET shares?path=%s does not list share %s: %.300s", rel, sh.ID, e.OCS.Data)
	}
	ev = append(ev, fmt.Sprintf("GET shares?path → lists it (%d)", len(list)))

	a, e, err = ocsShare(ctx, t, http.MethodDelete, sharesAPI+"/"+sh.ID.String(), nil)
	if err != nil {
		return grade.Errorf("DELETE share", err)
	}
	if a.Status != http.StatusOK || e.OCS.Meta.StatusCode != http.StatusOK {
		return grade.Failf("DELETE shares/%s: HTTP %d statuscode %d", sh.ID, a.Status, e.OCS.Meta.StatusCode)
	}
	ev = append(ev, "DELETE → 200/200")
	a, e, err = ocsShare(ctx, t, http.MethodGet, sharesAPI+"/"+sh.ID.String(), nil)
	if err != nil {
		return grade.Errorf("GET deleted share", err)
	}
	if a.Status != http.StatusNotFound || e.OCS.Meta.StatusCode != http.StatusNotFound {
		return grade.Failf("GET shares/%s after DELETE: HTTP %d statuscode %d, want 404/404", sh.ID, a.Status, e.OCS.Meta.StatusCode)
	}
	ev = append(ev, "GET → 404/404")
	return grade.Passf("%s", strings.Join(ev, "; "))
}
