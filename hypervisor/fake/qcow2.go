package fake

import "encoding/binary"

// qcow2 layout of an empty image as qemu-img create makes it: 64 KiB
// clusters; the header in cluster 0, the refcount table in cluster 1, its
// one refcount block in cluster 2, the L1 table from cluster 3. No L2
// table, so every guest block reads as zeros.
const (
	qcow2ClusterBits = 16
	qcow2Cluster     = 1 << qcow2ClusterBits
	qcow2HeaderLen   = 104 // version 3 header without the compression type
	qcow2RefOrder    = 4   // 16-bit refcounts
)

// qcow2Magic starts every qcow2 file ("QFI\xfb").
var qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}

// emptyQCOW2 is a valid qcow2 (version 3) image of virtual size bytes with
// no data allocated.
func emptyQCOW2(size int64) []byte {
	perL2 := int64(qcow2Cluster) * (qcow2Cluster / 8) // bytes one L2 table maps
	l1Size := (size + perL2 - 1) / perL2
	l1Clusters := max((l1Size*8+qcow2Cluster-1)/qcow2Cluster, 1)
	clusters := 3 + l1Clusters
	img := make([]byte, clusters*qcow2Cluster)

	h := img[:qcow2HeaderLen]
	be := binary.BigEndian
	copy(h[0:], qcow2Magic)
	be.PutUint32(h[4:], 3) // version
	// 8: backing file offset, 16: its size: none
	be.PutUint32(h[20:], qcow2ClusterBits)
	be.PutUint64(h[24:], uint64(size))
	// 32: crypt method: none
	be.PutUint32(h[36:], uint32(l1Size))
	be.PutUint64(h[40:], 3*qcow2Cluster) // L1 table offset
	be.PutUint64(h[48:], 1*qcow2Cluster) // refcount table offset
	be.PutUint32(h[56:], 1)              // refcount table clusters
	// 60: snapshots: none; 72..95: no incompatible, compatible or
	// autoclear features
	be.PutUint32(h[96:], qcow2RefOrder)
	be.PutUint32(h[100:], qcow2HeaderLen)
	// The header extension area after it starts with the end marker
	// (type 0, length 0): zeros already.

	// Refcount table: its first entry points at the refcount block.
	be.PutUint64(img[1*qcow2Cluster:], 2*qcow2Cluster)
	// Refcount block: every cluster of the file is used once.
	block := img[2*qcow2Cluster:]
	for i := range clusters {
		be.PutUint16(block[2*i:], 1)
	}
	return img
}
