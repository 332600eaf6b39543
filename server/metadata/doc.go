// Package metadata builds what a guest learns about itself: the documents
// of Nova's metadata service (OpenStack and EC2 formats, every dated
// version) and the config drive that carries them, an ISO9660 volume
// labelled "config-2".
//
// The documents are built per version by a Metadata value, so that the
// config drive (every version written as files) and an HTTP metadata
// service (one document per request) serve the same bytes.
package metadata
