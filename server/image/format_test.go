package image

import (
	"encoding/binary"
	"errors"
	"net/http"
	"testing"

	"minicloud/server/api"
)

func qcow2Header(version uint32, size uint64, backingOffset uint64, incompatible uint64) []byte {
	h := make([]byte, 104)
	copy(h, "QFI\xfb")
	binary.BigEndian.PutUint32(h[4:], version)
	binary.BigEndian.PutUint64(h[8:], backingOffset)
	binary.BigEndian.PutUint32(h[20:], 16) // cluster bits
	binary.BigEndian.PutUint64(h[24:], size)
	if version >= 3 {
		binary.BigEndian.PutUint64(h[72:], incompatible)
	}
	return h
}

func vmdkHeader(sectors uint64, createType string) []byte {
	h := make([]byte, 4096)
	copy(h, "KDMV")
	binary.LittleEndian.PutUint64(h[12:], sectors)
	binary.LittleEndian.PutUint64(h[28:], 1) // descriptor at sector 1
	binary.LittleEndian.PutUint64(h[36:], 1) // one sector long
	copy(h[512:], "# Disk DescriptorFile\nversion=1\ncreateType=\""+createType+"\"\n")
	return h
}

func vhdHeader(size uint64) []byte {
	h := make([]byte, 512)
	copy(h, "conectix")
	binary.BigEndian.PutUint64(h[48:], size)
	return h
}

func vdiHeader(size uint64) []byte {
	h := make([]byte, 512)
	binary.LittleEndian.PutUint32(h[0x40:], 0xbeda107f)
	binary.LittleEndian.PutUint64(h[0x170:], size)
	return h
}

func isoHeader(blocks uint32) []byte {
	h := make([]byte, 0x8800)
	h[0x8000] = 1
	copy(h[0x8001:], "CD001")
	binary.LittleEndian.PutUint32(h[0x8050:], blocks)
	binary.LittleEndian.PutUint16(h[0x8080:], 2048)
	return h
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		size   int64
		format string
		vsize  int64
		unsafe string
	}{
		{"qcow2 v2", qcow2Header(2, 16<<20, 0, 0), 196608, "qcow2", 16 << 20, ""},
		{"qcow2 v3", qcow2Header(3, 1<<30, 0, 0), 196608, "qcow2", 1 << 30, ""},
		{"qcow2 with backing file", qcow2Header(3, 1<<30, 0x200, 0), 196608, "qcow2", 1 << 30, "backing_file"},
		{"qcow2 with external data file", qcow2Header(3, 1<<30, 0, 1<<2), 196608, "qcow2", 1 << 30, "data_file"},
		{"qcow2 with unknown feature", qcow2Header(3, 1<<30, 0, 1<<9), 196608, "qcow2", 1 << 30, "unknown_features"},
		{"vmdk monolithicSparse", vmdkHeader(2048, "monolithicSparse"), 65536, "vmdk", 1 << 20, ""},
		{"vmdk monolithicFlat points elsewhere", vmdkHeader(2048, "monolithicFlat"), 65536, "vmdk", 1 << 20, "create_type"},
		{"vhd", vhdHeader(8 << 20), 8<<20 + 512, "vhd", 8 << 20, ""},
		{"vdi", vdiHeader(32 << 20), 4096, "vdi", 32 << 20, ""},
		{"iso", isoHeader(100), 100 * 2048, "iso", 100 * 2048, ""},
		{"random bytes are raw", []byte("****************"), 1024, "raw", 1024, ""},
		{"short qcow2 magic is raw", []byte("QFI\xfb"), 4, "raw", 4, ""},
		{"empty is raw", nil, 0, "raw", 0, ""},
	}
	for _, tt := range tests {
		d := detectFormat(tt.data, tt.size)
		if d.format != tt.format || d.virtualSize != tt.vsize || d.unsafe != tt.unsafe {
			t.Errorf("%s: got %+v, want %s/%d/%q", tt.name, d, tt.format, tt.vsize, tt.unsafe)
		}
	}
}

func TestCheckFormat(t *testing.T) {
	raw := []byte("just some bytes")
	qcow := qcow2Header(3, 16<<20, 0, 0)
	tests := []struct {
		name            string
		disk, container string
		data            []byte
		size            int64
		strict          bool
		vsize           int64
		status          int
		mismatch        bool
	}{
		{"qcow2 as qcow2", "qcow2", "bare", qcow, 200000, true, 16 << 20, 0, false},
		{"raw as raw: virtual size is the size", "raw", "bare", raw, 1024, true, 1024, 0, false},
		{"qcow2 uploaded as raw is taken as raw bytes", "raw", "bare", qcow, 200000, true, 200000, 0, false},
		{"raw uploaded as qcow2 is refused when strict", "qcow2", "bare", raw, 1024, true, 0, http.StatusUnsupportedMediaType, false},
		{"raw uploaded as qcow2 is a mismatch otherwise", "qcow2", "bare", raw, 1024, false, 0, 0, true},
		{"raw as iso is refused when strict", "iso", "bare", raw, 1024, true, 0, http.StatusUnsupportedMediaType, false},
		{"ami takes anything not recognized", "ami", "bare", raw, 1024, true, 0, 0, false},
		{"backing file refused even as raw", "raw", "bare", qcow2Header(3, 1, 512, 0), 4096, false, 0, http.StatusUnsupportedMediaType, false},
		{"backing file refused as qcow2", "qcow2", "bare", qcow2Header(3, 1, 512, 0), 4096, false, 0, http.StatusUnsupportedMediaType, false},
		{"non-bare containers are not inspected", "qcow2", "ovf", raw, 1024, true, 0, 0, false},
		{"empty raw has no virtual size", "raw", "bare", nil, 0, true, 0, 0, false},
	}
	for _, tt := range tests {
		vsize, err := checkFormat(tt.disk, tt.container, tt.data, tt.size, tt.strict)
		status := 0
		if e, ok := api.AsError(err); ok {
			status = e.Status
		} else if err != nil && !(tt.mismatch && errors.Is(err, errFormatMismatch)) {
			t.Errorf("%s: unexpected %v", tt.name, err)
		}
		if tt.mismatch != errors.Is(err, errFormatMismatch) {
			t.Errorf("%s: mismatch %v", tt.name, err)
		}
		if status != tt.status || vsize != tt.vsize {
			t.Errorf("%s: got %d, %v; want %d, status %d", tt.name, vsize, err, tt.vsize, tt.status)
		}
	}
}
