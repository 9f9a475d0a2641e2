package nccheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// sharesAPI is files_sharing's share API on OCS v2 (nextcloud/server
// apps/files_sharing/lib/Controller/ShareAPIController.php).
const sharesAPI = "/ocs/v2.php/apps/files_sharing/api/v1/shares"

var formOCSHeaders = map[string]string{"OCS-APIRequest": "true", "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}

// SharesLifecycle: a public link of a fresh folder is created (data is
// the share, its id a string), read back as a one-element list, deleted
// (200), and is then 404. The folder is removed afterwards.
func SharesLifecycle(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	uid, a, _, err := currentUser(ctx, t)
	if err != nil {
		return grade.Errorf("current user", err)
	}
	if uid == "" {
		return grade.Failf("no uid from GET /ocs/v2.php/cloud/user (HTTP %d)", a.Status)
	}
	name := "conformance-share-" + random()
	folder := "/remote.php/dav/files/" + url.PathEscape(uid) + "/" + name
	m, err := do(ctx, t, "MKCOL", folder, nil, nil, true)
	if err != nil {
		return grade.Errorf("MKCOL", err)
	}
	if m.Status != http.StatusCreated {
		return grade.Failf("MKCOL %s: HTTP %d", name, m.Status)
	}
	defer func() { _, _ = do(context.WithoutCancel(ctx), t, http.MethodDelete, folder, nil, nil, true) }() // clean-up; its outcome grades nothing
	body := url.Values{"path": {"/" + name}, "shareType": {"3"}, "permissions": {"1"}}.Encode()
	c, err := do(ctx, t, http.MethodPost, sharesAPI+"?format=json", formOCSHeaders, []byte(body), true)
	if err != nil {
		return grade.Errorf("POST share", err)
	}
	e, err := decodeOCS(c)
	if err != nil || c.Status != http.StatusOK {
		return grade.Failf("POST %s (link of %s): HTTP %d, want 200 with an OCS envelope (%.120s)", sharesAPI, name, c.Status, c.Body)
	}
	var share struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(e.OCS.Data, &share); err != nil {
		return grade.Failf("POST share: data is not a share object: %.120s", e.OCS.Data)
	}
	id, ok := share.ID.(string)
	if !ok || id == "" {
		return grade.Failf("POST share: data.id = %#v, want a string", share.ID)
	}
	g, err := do(ctx, t, http.MethodGet, sharesAPI+"/"+id+"?format=json", ocsHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET share", err)
	}
	ge, err := decodeOCS(g)
	if err != nil || g.Status != http.StatusOK {
		return grade.Failf("GET share %s: HTTP %d, want 200", id, g.Status)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(ge.OCS.Data, &list); err != nil || len(list) != 1 {
		return grade.Failf("GET share %s: data %.120s, want a one-element list", id, ge.OCS.Data)
	}
	d, err := do(ctx, t, http.MethodDelete, sharesAPI+"/"+id+"?format=json", ocsHeaders, nil, true)
	if err != nil {
		return grade.Errorf("DELETE share", err)
	}
	if d.Status != http.StatusOK {
		return grade.Failf("DELETE share %s: HTTP %d, want 200", id, d.Status)
	}
	gone, err := do(ctx, t, http.MethodGet, sharesAPI+"/"+id+"?format=json", ocsHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET deleted share", err)
	}
	if gone.Status != http.StatusNotFound {
		return grade.Failf("GET of deleted share %s: HTTP %d, want 404", id, gone.Status)
	}
	return grade.Passf("POST link → 200 id %q; GET → [share]; DELETE → 200; GET → 404", id)
}

// SharesUnknownID: a share id that does not exist is HTTP 404 on v2 with
// statuscode 404.
func SharesUnknownID(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needNC(t); !ok {
		return o
	}
	const id = "2147483000"
	a, err := do(ctx, t, http.MethodGet, sharesAPI+"/"+id+"?format=json", ocsHeaders, nil, true)
	if err != nil {
		return grade.Errorf("GET share", err)
	}
	e, err := decodeOCS(a)
	if err != nil {
		return grade.Failf("GET unknown share: %v", err)
	}
	if a.Status != http.StatusNotFound || e.OCS.Meta.StatusCode != http.StatusNotFound {
		return grade.Failf("GET unknown share %s: HTTP %d statuscode %d, want 404/404", id, a.Status, e.OCS.Meta.StatusCode)
	}
	return grade.Passf("GET %s/%s → HTTP 404, statuscode 404 %s", sharesAPI, id, fmt.Sprintf("%q", e.OCS.Meta.Message))
}
