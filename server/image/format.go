package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// headerSize is how much of the data format inspection reads: enough for
// every header below (an ISO's primary volume descriptor ends at 34 KiB).
const headerSize = 64 << 10

// detected is what the first bytes of an upload say about its format.
type detected struct {
	format string
	// virtualSize is the disk size the format declares, 0 when unknown.
	virtualSize int64
	// unsafe names the safety check the data fails, "" when none.
	unsafe string
}

// inspectable are the disk formats Glance recognizes in data; the others
// (ami, ari, aki, ploop) are taken as they come.
var inspectable = []string{"raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "iso", "qed", "luks"}

// vmdkAllowedTypes are the single-file VMDK variants Glance accepts
// ([image_format] vmdk_allowed_types): others reference other files.
var vmdkAllowedTypes = []string{"streamOptimized", "monolithicSparse"}

var vmdkCreateType = regexp.MustCompile(`(?m)^createType\s*=\s*"([^"]*)"`)

// detectFormat identifies the format of data from its first bytes (up to
// headerSize) and its total size, with the declared virtual size and
// Glance's safety checks for formats that can point at other files.
func detectFormat(h []byte, size int64) detected {
	be, le := binary.BigEndian, binary.LittleEndian
	switch {
	case len(h) >= 32 && bytes.Equal(h[:4], []byte("QFI\xfb")):
		d := detected{format: "qcow2", virtualSize: int64(be.Uint64(h[24:32]))}
		version := be.Uint32(h[4:8])
		switch {
		case be.Uint64(h[8:16]) != 0:
			d.unsafe = "backing_file"
		case version >= 3 && len(h) >= 80 && be.Uint64(h[72:80])&(1<<2) != 0:
			d.unsafe = "data_file"
		case version >= 3 && len(h) >= 80 && be.Uint64(h[72:80])&^0x1f != 0:
			d.unsafe = "unknown_features"
		}
		return d
	case len(h) >= 8 && bytes.Equal(h[:8], []byte("vhdxfile")):
		return detected{format: "vhdx"}
	case len(h) >= 56 && bytes.Equal(h[:8], []byte("conectix")):
		return detected{format: "vhd", virtualSize: int64(be.Uint64(h[48:56]))}
	case len(h) >= 44 && bytes.Equal(h[:4], []byte("KDMV")):
		d := detected{format: "vmdk", virtualSize: int64(le.Uint64(h[12:20])) * 512}
		descOff, descLen := int64(le.Uint64(h[28:36]))*512, int64(le.Uint64(h[36:44]))*512
		if descOff > 0 && descLen > 0 && descOff+descLen <= int64(len(h)) {
			desc := h[descOff : descOff+descLen]
			m := vmdkCreateType.FindSubmatch(desc)
			if m == nil || !slices.Contains(vmdkAllowedTypes, string(m[1])) {
				d.unsafe = "create_type"
			}
		}
		return d
	case len(h) >= 0x178 && le.Uint32(h[0x40:0x44]) == 0xbeda107f:
		return detected{format: "vdi", virtualSize: int64(le.Uint64(h[0x170:0x178]))}
	case len(h) >= 8 && bytes.Equal(h[:4], []byte("QED\x00")):
		return detected{format: "qed"}
	case len(h) >= 6 && bytes.Equal(h[:6], []byte("LUKS\xba\xbe")):
		return detected{format: "luks"}
	case len(h) >= 0x8082 && h[0x8000] == 1 && bytes.Equal(h[0x8001:0x8006], []byte("CD001")):
		blocks := int64(le.Uint32(h[0x8050:0x8054]))
		blockSize := int64(le.Uint16(h[0x8080:0x8082]))
		return detected{format: "iso", virtualSize: blocks * blockSize}
	}
	return detected{format: "raw", virtualSize: size}
}

// errFormatMismatch is data that is not what its disk_format says.
var errFormatMismatch = errors.New("disk format does not match the data")

// checkFormat is Glance's upload-time format check for a bare container:
// the data should be what disk_format says (raw takes anything, and formats
// Glance cannot inspect take raw data), and must pass the safety checks
// (415). It returns the virtual size to record (0: none). A mismatch is
// refused (415) when strict, as with Glance's require_image_format_match;
// otherwise it is accepted without a virtual size, as Glance does with that
// option off.
func checkFormat(diskFormat, containerFormat string, h []byte, size int64, strict bool) (int64, error) {
	if containerFormat != "bare" {
		return 0, nil
	}
	d := detectFormat(h, size)
	if d.unsafe != "" {
		return 0, unsupportedMedia("Image failed safety checks")
	}
	switch {
	case d.format == diskFormat:
		return d.virtualSize, nil
	case d.format == "raw" && !slices.Contains(inspectable, diskFormat):
		return 0, nil
	case diskFormat == "raw":
		return size, nil
	case strict:
		return 0, unsupportedMedia("Image disk_format %s does not match stream data %s", diskFormat, d.format)
	}
	return 0, fmt.Errorf("%w: %s is %s", errFormatMismatch, diskFormat, d.format)
}
