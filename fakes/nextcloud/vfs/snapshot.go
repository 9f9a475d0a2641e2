package vfs

import (
	"fmt"
	"sort"
)

// Snapshot is the serialisable form of a store (used by --data-dir).
type Snapshot struct {
	NextID  int64        `json:"next_id"`
	ETagSeq int64        `json:"etag_seq"`
	Nodes   []NodeRecord `json:"nodes"`
}

// NodeRecord is one node of a Snapshot. Homes have ParentID 0.
type NodeRecord struct {
	ID       int64             `json:"id"`
	ParentID int64             `json:"parent_id,omitempty"`
	Owner    string            `json:"owner"`
	Name     string            `json:"name,omitempty"`
	Dir      bool              `json:"dir,omitempty"`
	Content  []byte            `json:"content,omitempty"`
	MTime    int64             `json:"mtime"`
	CTime    int64             `json:"ctime,omitempty"`
	UTime    int64             `json:"utime,omitempty"`
	ETag     string            `json:"etag"`
	Checksum string            `json:"checksum,omitempty"`
	Props    map[string]string `json:"props,omitempty"`
}

// Snapshot captures the whole store; parents come before their children.
func (fs *FS) Snapshot() Snapshot {
	s := Snapshot{NextID: fs.nextID, ETagSeq: fs.etagSeq}
	for _, uid := range fs.Homes() {
		Walk(fs.homes[uid], func(n *Node) bool {
			r := NodeRecord{ID: n.ID, Owner: n.Owner, Name: n.Name, Dir: n.Dir, Content: n.Content,
				MTime: n.MTime, CTime: n.CTime, UTime: n.UTime, ETag: n.ETag, Checksum: n.Checksum, Props: n.Props}
			if n.parent != nil {
				r.ParentID = n.parent.ID
			}
			s.Nodes = append(s.Nodes, r)
			return true
		})
	}
	return s
}

// Restore replaces the store's content with s.
func (fs *FS) Restore(s Snapshot) error {
	homes := map[string]*Node{}
	byID := map[int64]*Node{}
	var maxID int64
	for _, r := range s.Nodes {
		if r.ID <= 0 || byID[r.ID] != nil {
			return fmt.Errorf("vfs: snapshot: bad or duplicate node id %d", r.ID)
		}
		n := &Node{ID: r.ID, Name: r.Name, Dir: r.Dir, Owner: r.Owner, Content: r.Content,
			MTime: r.MTime, CTime: r.CTime, UTime: r.UTime, ETag: r.ETag, Checksum: r.Checksum, Props: r.Props}
		if n.Dir {
			n.children = map[string]*Node{}
			n.MimeType = "httpd/unix-directory"
		} else {
			n.MimeType = MimeType(n.Name)
		}
		if r.ParentID == 0 {
			if homes[r.Owner] != nil {
				return fmt.Errorf("vfs: snapshot: two homes for %q", r.Owner)
			}
			homes[r.Owner] = n
		} else {
			p := byID[r.ParentID]
			if p == nil || !p.Dir {
				return fmt.Errorf("vfs: snapshot: node %d has no folder parent %d", r.ID, r.ParentID)
			}
			if p.children[n.Name] != nil {
				return fmt.Errorf("vfs: snapshot: duplicate name %q in folder %d", n.Name, p.ID)
			}
			n.parent = p
			p.children[n.Name] = n
		}
		byID[n.ID] = n
		if n.ID > maxID {
			maxID = n.ID
		}
	}
	if s.NextID <= maxID {
		s.NextID = maxID + 1
	}
	fs.homes, fs.byID, fs.nextID, fs.etagSeq = homes, byID, s.NextID, s.ETagSeq
	return nil
}

// IDs returns every file id in the store, ascending (for tests and checks).
func (fs *FS) IDs() []int64 {
	out := make([]int64, 0, len(fs.byID))
	for id := range fs.byID {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
