// Package qcow2 writes empty qcow2 images, optionally on a backing file:
// a guest's overlay is a few clusters of metadata, and writing them costs
// microseconds where starting qemu-img costs tens of milliseconds.
package qcow2

import (
	"encoding/binary"
	"fmt"
)

// Layout as qemu-img create makes it: 64 KiB clusters; the header (and
// the backing file's name) in cluster 0, the refcount table in cluster 1,
// its one refcount block in cluster 2, the L1 table from cluster 3. No L2
// table, so every guest block reads from the backing file, or as zeros.
const (
	clusterBits = 16
	cluster     = 1 << clusterBits
	headerLen   = 104 // version 3 header without the compression type
	refOrder    = 4   // 16-bit refcounts
	// extBackingFormat is the header extension naming the backing
	// file's format.
	extBackingFormat = 0xe2792aca
	maxBackingName   = 1023
)

// Magic starts every qcow2 file ("QFI\xfb").
var Magic = []byte{'Q', 'F', 'I', 0xfb}

// Image is a valid qcow2 (version 3) image of virtual size bytes with no
// data allocated, reading through to backing (a file of format
// backingFormat) when backing is not "".
func Image(size int64, backing, backingFormat string) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("qcow2 size %d", size)
	}
	if len(backing) > maxBackingName {
		return nil, fmt.Errorf("qcow2 backing file name longer than %d bytes", maxBackingName)
	}
	perL2 := int64(cluster) * (cluster / 8) // bytes one L2 table maps
	l1Size := (size + perL2 - 1) / perL2
	l1Clusters := max((l1Size*8+cluster-1)/cluster, 1)
	clusters := 3 + l1Clusters
	img := make([]byte, clusters*cluster)

	h := img[:headerLen]
	be := binary.BigEndian
	copy(h[0:], Magic)
	be.PutUint32(h[4:], 3) // version
	be.PutUint32(h[20:], clusterBits)
	be.PutUint64(h[24:], uint64(size))
	// 32: crypt method: none
	be.PutUint32(h[36:], uint32(l1Size))
	be.PutUint64(h[40:], 3*cluster) // L1 table offset
	be.PutUint64(h[48:], 1*cluster) // refcount table offset
	be.PutUint32(h[56:], 1)         // refcount table clusters
	// 60: snapshots: none; 72..95: no incompatible, compatible or
	// autoclear features
	be.PutUint32(h[96:], refOrder)
	be.PutUint32(h[100:], headerLen)

	// Header extensions, then the end marker (type 0, length 0: zeros),
	// then the backing file's name.
	off := headerLen
	if backing != "" && backingFormat != "" {
		be.PutUint32(img[off:], extBackingFormat)
		be.PutUint32(img[off+4:], uint32(len(backingFormat)))
		copy(img[off+8:], backingFormat)
		off += 8 + (len(backingFormat)+7)/8*8
	}
	off += 8 // end marker
	if backing != "" {
		be.PutUint64(h[8:], uint64(off))
		be.PutUint32(h[16:], uint32(len(backing)))
		copy(img[off:], backing)
	}

	// Refcount table: its first entry points at the refcount block.
	be.PutUint64(img[1*cluster:], 2*cluster)
	// Refcount block: every cluster of the file is used once.
	block := img[2*cluster:]
	for i := range clusters {
		be.PutUint16(block[2*i:], 1)
	}
	return img, nil
}
