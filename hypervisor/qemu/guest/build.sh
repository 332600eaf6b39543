#!/bin/bash
# build.sh OUTDIR [CACHEDIR] - build minicloud's test guest from Debian packages.
#
# The guest is Debian's cloud kernel with a busybox initramfs, on a bootable disk
# image (MBR, one FAT16 partition labelled MINICLOUD, SYSLINUX), as a cloud image
# looks to QEMU. Nothing here needs root, loop devices or mounts: the packages are
# downloaded (never installed) and unpacked with dpkg-deb, the filesystem is written
# with mtools, and the initramfs is packed with every file owned by root.
#
# Output in OUTDIR:
#   vmlinuz       the kernel, for direct boot (-kernel)
#   initrd.img    the initramfs (gzip'd newc cpio), for direct boot (-initrd)
#   disk.qcow2    the bootable disk with both of the above on it
#   manifest.txt  what it was built from; its first lines decide whether a later
#                 run has anything to do (same recipe, same package versions: no)
# Downloaded .deb files are kept in CACHEDIR (default OUTDIR/cache).
#
# Host packages: qemu-utils dosfstools mtools syslinux syslinux-common fdisk, and
# `apt-get update` done once (apt-get download then works for any user). Exit status
# 3: apt does not know the packages (no package index).
#
# What the guest prints on the serial console (ttyS0), one line each:
#   MINICLOUD-GUEST-BOOT kernel=<release> uptime=<s>
#   MINICLOUD-CONFIGDRIVE-BEGIN dev=<device>     a filesystem labelled config-2 exists:
#   <openstack/latest/meta_data.json>            its metadata, as is
#   MINICLOUD-CONFIGDRIVE-END
#   MINICLOUD-USERDATA-B64 <base64>              openstack/latest/user_data, exactly
#   MINICLOUD-USERDATA-BEGIN                     user_data starting with "#!" is run,
#   <its output>                                 its output shown between these
#   MINICLOUD-USERDATA-END rc=<exit status>
#   MINICLOUD-GUEST-UP ip=<addr|none> boot=<n> host=<hostname> disk=<sectors|none>
#   MINICLOUD-METADATA-BEGIN ... -END | -NONE | -SKIPPED   up to 3 tries at 169.254.169.254
#   MINICLOUD-GUEST-POWERDOWN, MINICLOUD-GUEST-SHUTDOWN      on the ACPI power button
# boot=<n> counts boots from this disk (a file on its FAT partition); disk= is the size
# of /dev/vda in 512-byte sectors, so a grown disk shows. The config drive is found by
# its label on any disk (virtio, as the cloud kernel has no AHCI) or CD-ROM. A root
# shell stays on ttyS0 and tty1 (VGA).
set -euo pipefail

readonly META_PACKAGE=linux-image-cloud-amd64
readonly BUSYBOX_PACKAGE=busybox-static
readonly PART_MIB=48
# Serial console last: it becomes /dev/console, where the guest's scripts write.
# 'quiet' because every character through the emulated UART costs time under TCG.
readonly CMDLINE="console=tty1 console=ttyS0 quiet panic=-1"
# Drivers the cloud kernel builds as modules; the initramfs loads them in this order
# (dependencies first). ahci is absent from the cloud kernel: on q35 a config drive
# must be a virtio disk, not a CD-ROM.
readonly MODULES="virtio_pci virtio_net virtio_blk virtio_scsi virtio_balloon virtio_rng
    virtio_console isofs vfat nls_cp437 nls_ascii nls_utf8 ata_piix sd_mod sr_mod
    button evdev"
readonly INSTALL_HINT="apt-get install -y --no-install-recommends qemu-utils dosfstools mtools syslinux syslinux-common fdisk"

log() { printf 'guest: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

OUT=${1:?usage: build.sh OUTDIR [CACHEDIR]}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=${2:-$OUT/cache}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# The recipe's hash goes into the manifest, so a changed script means a rebuild.
# (Run from Go the script is not a file; the caller passes the hash.)
RECIPE=${MINICLOUD_GUEST_RECIPE:-$(sha256sum < "${BASH_SOURCE[0]}" | cut -c1-64)}

check_host() {
    local missing=() t
    for t in apt-get apt-cache dpkg-deb sha256sum gzip mkfs.fat mcopy syslinux sfdisk qemu-img; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    [ -f /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(/usr/lib/syslinux/mbr/mbr.bin)
    [ ${#missing[@]} -eq 0 ] || die "missing on this host: ${missing[*]}; install them with: $INSTALL_HINT"
}

# index_field FIELD: the field's value in the apt-cache show record on stdin.
index_field() { awk -v f="$1:" '$1 == f { print $2; exit }'; }

# resolve_packages sets KPKG/KVER (the versioned kernel package the meta package
# points at: its number changes with Debian point releases) and BBVER.
resolve_packages() {
    local meta
    meta=$(apt-cache show --no-all-versions "$META_PACKAGE" "$BUSYBOX_PACKAGE" 2>/dev/null) || true
    # "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"
    KPKG=$(awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' <<< "$meta")
    KVER=$(awk '$1 == "Depends:" && $2 ~ /^linux-image-/ && $3 == "(=" { sub(/\)$/, "", $4); print $4; exit }' <<< "$meta")
    BBVER=$(awk '$1 == "Package:" { p = $2 } $1 == "Version:" && p == "'"$BUSYBOX_PACKAGE"'" { print $2; exit }' <<< "$meta")
    if [ -n "$KPKG" ] && [ -z "$KVER" ]; then
        KVER=$(apt-cache policy "$KPKG" | awk '$1 == "Candidate:" { print $2 }')
    fi
}

manifest_head() {
    echo "recipe: $RECIPE"
    echo "kernel-package: $KPKG $KVER"
    echo "busybox-package: $BUSYBOX_PACKAGE $BBVER"
}

complete_build() {
    local f
    for f in vmlinuz initrd.img disk.qcow2 manifest.txt; do [ -s "$OUT/$f" ] || return 1; done
}

# fetch PACKAGE VERSION: the path of its .deb in the cache, downloaded when not there
# and checked against the SHA256 of the package index either way.
fetch() {
    local pkg=$1 ver=$2 deb want got tmp
    deb=$CACHE/${pkg}_${ver//:/%3a}_amd64.deb
    want=$(apt-cache show "$pkg=$ver" 2>/dev/null | index_field SHA256)
    [ -n "$want" ] || die "$pkg $ver is not in the package index (run apt-get update)"
    if [ -f "$deb" ]; then
        got=$(sha256sum < "$deb" | cut -c1-64)
        if [ "$got" != "$want" ]; then
            log "cached $(basename "$deb") does not match the index; downloading it again"
            rm -f "$deb"
        fi
    fi
    if [ ! -f "$deb" ]; then
        log "downloading $pkg $ver"
        # Into a private directory first, so that builds sharing the cache never see
        # half a file. As root, apt would download as _apt, who may not be able to
        # write here: download as whoever runs this.
        tmp=$(mktemp -d "$CACHE/.download-XXXXXX")
        if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg=$ver" >&2); then
            rm -rf "$tmp"
            die "apt-get download $pkg=$ver failed"
        fi
        got=$(sha256sum < "$tmp/$(basename "$deb")" | cut -c1-64)
        [ "$got" = "$want" ] || { rm -rf "$tmp"; die "downloaded $pkg $ver does not match the package index"; }
        mv "$tmp/$(basename "$deb")" "$deb"
        rm -rf "$tmp"
    fi
    echo "$deb"
}

# add_module NAME: copy a module and, first, the modules it depends on (from its
# .modinfo "depends=" line) into the initramfs, recording the load order.
declare -A ADDED=()
add_module() {
    local name=${1//-/_} pattern path dep
    [ -z "${ADDED[$name]:-}" ] || return 0
    ADDED[$name]=1
    # File names mix '-' and '_' (virtio-rng.ko); the kernel does not care.
    pattern=${name//_/[-_]}
    path=$(find "$MODSRC/kernel" -name "$pattern.ko" -print -quit)
    if [ -z "$path" ]; then
        grep -q "/$pattern\.ko$" "$MODSRC/modules.builtin" || log "module $name is not in $RELEASE (skipped)"
        return 0
    fi
    for dep in $(tr '\0' '\n' < "$path" | sed -n 's/^depends=//p' | tr ',' ' '); do
        add_module "$dep"
    done
    install -D -m 0644 "$path" "$ROOT/lib/modules/$RELEASE/${path#"$MODSRC"/}"
    echo "$name" >> "$ROOT/etc/modules"
}

# guest_file PATH MODE: the guest file PATH (in the initramfs) from stdin.
guest_file() {
    install -D -m "$2" /dev/stdin "$ROOT$1"
}

write_guest_scripts() {
    # PID 1: the pseudo filesystems (devtmpfs is not mounted for an initramfs by
    # itself), then busybox init with /etc/inittab.
    guest_file /init 0755 <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
exec /sbin/init
EOF

    guest_file /etc/inittab 0644 <<'EOF'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:-/bin/sh
tty1::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/init.d/rcK
EOF

    # Shared by the start-up script and the DHCP hook.
    guest_file /lib/minicloud.sh 0644 <<'EOF'
# Markers that can come while a shell prompt is on the console start on a line
# of their own.
# guest_up IP: the ready marker.
guest_up() {
    printf '\n' > /dev/console
    echo "MINICLOUD-GUEST-UP ip=$1 boot=$(cat /run/bootcount) host=$(hostname) disk=$(cat /sys/block/vda/size 2>/dev/null || echo none)" > /dev/console
}
EOF

    guest_file /etc/init.d/rcS 0755 <<'EOF'
#!/bin/sh
# Start-up; everything printed goes to /dev/console (ttyS0).
. /lib/minicloud.sh
echo "MINICLOUD-GUEST-BOOT kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
while read -r m; do modprobe -q "$m" 2>/dev/null; done < /etc/modules
ip link set lo up
hostname minicloud-guest
echo 1 > /run/bootcount

# acpid turns the ACPI power button (QMP system_powerdown) into a clean power-off.
# It must run before the ready marker, so that a power-off sent right after it is
# seen, and it opens the input devices when it starts: wait for the button's.
i=0
while [ ! -e /dev/input/event0 ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
acpid

config_drive() {
    # Disks can appear a moment after their driver loads: look for up to 3 s, but
    # only while there is a second disk or a CD-ROM that could be the config drive.
    i=0
    while [ $i -lt 6 ]; do
        dev=$(findfs LABEL=config-2 2>/dev/null) && [ -n "$dev" ] && break
        [ -e /dev/vdb ] || [ -e /dev/sr0 ] || [ -e /dev/sdb ] || return 0
        sleep 0.5; i=$((i + 1))
    done
    [ -n "$dev" ] || return 0
    mkdir -p /mnt/config
    if ! mount -o ro "$dev" /mnt/config 2>/dev/null; then
        echo "MINICLOUD-CONFIGDRIVE-ERROR dev=$dev"
        return 0
    fi
    dir=/mnt/config/openstack/latest
    echo "MINICLOUD-CONFIGDRIVE-BEGIN dev=$dev"
    cat "$dir/meta_data.json" 2>/dev/null
    echo
    echo "MINICLOUD-CONFIGDRIVE-END"
    # No JSON parser in busybox; the hostname is a plain string.
    name=$(sed -n 's/.*"hostname": *"\([^"]*\)".*/\1/p' "$dir/meta_data.json" 2>/dev/null)
    [ -n "$name" ] && hostname "${name%%.*}"
    [ -f "$dir/user_data" ] || return 0
    echo "MINICLOUD-USERDATA-B64 $(base64 -w 0 "$dir/user_data")"
    if [ "$(head -c 2 "$dir/user_data")" = "#!" ]; then
        cp "$dir/user_data" /run/user_data
        chmod 0700 /run/user_data
        echo "MINICLOUD-USERDATA-BEGIN"
        /run/user_data 2>&1
        echo "MINICLOUD-USERDATA-END rc=$?"
    fi
}
config_drive

# The boot counter lives on this disk's own FAT partition, so it shows whether a
# disk survived a reboot, a stop and start, or went into a snapshot.
dev=$(findfs LABEL=MINICLOUD 2>/dev/null)
if [ -n "$dev" ] && mount -t vfat "$dev" /mnt 2>/dev/null; then
    n=$(( $(cat /mnt/bootcount 2>/dev/null || echo 0) + 1 ))
    echo "$n" > /mnt/bootcount && echo "$n" > /run/bootcount
    sync
    umount /mnt
fi

if ip link show eth0 >/dev/null 2>&1; then
    # Up to 30 discovers a second apart, then on in the background; the DHCP hook
    # prints the ready marker when a lease is bound.
    udhcpc -i eth0 -s /etc/udhcpc.script -t 30 -T 1 -b -p /run/udhcpc.pid \
        -x hostname:"$(hostname)" -O mtu -O staticroutes
else
    guest_up none
fi
EOF

    guest_file /etc/init.d/rcK 0755 <<'EOF'
#!/bin/sh
printf '\nMINICLOUD-GUEST-SHUTDOWN\n'
[ -f /run/udhcpc.pid ] && kill "$(cat /run/udhcpc.pid)" 2>/dev/null
sync
EOF

    # udhcpc runs this with $1 = deconfig | bound | renew | nak, the lease in variables.
    guest_file /etc/udhcpc.script 0755 <<'EOF'
#!/bin/sh
. /lib/minicloud.sh
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    for r in $router; do ip -4 route replace default via "$r" dev "$interface"; break; done
    # option 121: "dest/prefix gateway dest/prefix gateway ..."
    set -- $staticroutes
    while [ $# -ge 2 ]; do ip -4 route replace "$1" via "$2" dev "$interface"; shift 2; done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    if [ ! -e "/run/up.$ip" ]; then
        : > "/run/up.$ip"
        guest_up "$ip"
        ( /etc/metadata.sh "$serverid" > /dev/console 2>&1 & )
    fi
    ;;
esac
exit 0
EOF

    # Three tries at the metadata service (a loaded host can be slow to answer),
    # after the marker so they never delay it. Not on QEMU's user-mode network (DHCP
    # server 10.0.2.2): slirp would carry the request out through the host's own
    # network. `timeout 10 wget`, because busybox 1.35's `wget -T` crashes when the
    # connection fails.
    guest_file /etc/metadata.sh 0755 <<'EOF'
#!/bin/sh
echo
if [ "$1" = 10.0.2.2 ]; then
    echo "MINICLOUD-METADATA-SKIPPED (QEMU user-mode network)"
    exit 0
fi
ok=
for i in 1 2 3; do
    if body=$(timeout 10 wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json 2>/dev/null); then
        ok=1
        break
    fi
    sleep 1
done
if [ -n "$ok" ]; then
    echo "MINICLOUD-METADATA-BEGIN"
    echo "$body"
    echo "MINICLOUD-METADATA-END"
else
    echo "MINICLOUD-METADATA-NONE"
fi
EOF

    # busybox acpid runs PWRF/00000080 (under /etc/acpi) for the power button. The
    # shutdown script, then straight off: busybox init's own poweroff spends 2 s
    # signalling processes, and with no filesystem mounted there is nothing to lose.
    guest_file /etc/acpi/PWRF/00000080 0755 <<'EOF'
#!/bin/sh
printf '\nMINICLOUD-GUEST-POWERDOWN\n' > /dev/console
/etc/init.d/rcK > /dev/console 2>&1
poweroff -f
EOF

    echo 'root:x:0:0:root:/root:/bin/sh' | guest_file /etc/passwd 0644
    echo 'root:x:0:' | guest_file /etc/group 0644
    echo 'export PS1="\h:\w# "' | guest_file /etc/profile 0644
}

make_initramfs() {
    local applet
    mkdir -p "$ROOT"/{bin,sbin,etc,usr/bin,usr/sbin,proc,sys,dev,run,tmp,mnt,root,var/log}
    install -m 0755 "$BUSYBOX" "$ROOT/bin/busybox"
    for applet in $("$BUSYBOX" --list-full); do     # bin/sh, sbin/udhcpc, ...
        [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
    done
    : > "$ROOT/etc/modules"
    for m in $MODULES; do add_module "$m"; done
    cp "$MODSRC/modules.builtin" "$MODSRC/modules.order" "$ROOT/lib/modules/$RELEASE/"
    "$BUSYBOX" depmod -b "$ROOT" "$RELEASE"
    write_guest_scripts
    # cpio -R 0:0: every file root's without being root; gzip -n: no timestamp.
    (cd "$ROOT" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) \
        | gzip -9 -n > "$WORK/initrd.img"
}

# make_disk: MBR with SYSLINUX's boot code and one bootable FAT16 partition at 1 MiB
# holding SYSLINUX, the kernel and the initramfs, all written into plain files.
make_disk() {
    local part=$WORK/part.img raw=$WORK/disk.raw
    # 2048 hidden sectors: the filesystem will start at sector 2048 of the disk.
    mkfs.fat -F 16 -n MINICLOUD -h 2048 -C "$part" $((PART_MIB * 1024)) >/dev/null
    syslinux --install "$part"
    cat > "$WORK/syslinux.cfg" <<EOF
DEFAULT guest
PROMPT 0
TIMEOUT 0
SERIAL 0 115200
LABEL guest
    KERNEL /vmlinuz
    INITRD /initrd.img
    APPEND $CMDLINE
EOF
    echo 0 > "$WORK/bootcount"
    mcopy -i "$part" "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/syslinux.cfg" "$WORK/bootcount" ::/
    truncate -s $(((PART_MIB + 1) * 1024 * 1024)) "$raw"
    dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
    printf 'label: dos\nstart=2048, type=e, bootable\n' | sfdisk --quiet "$raw"
    dd if="$part" of="$raw" bs=1M seek=1 conv=notrunc status=none
    qemu-img convert -f raw -O qcow2 "$raw" "$WORK/disk.qcow2"
}

main() {
    check_host
    [ "$(dpkg --print-architecture)" = amd64 ] || die "the guest is built from amd64 packages; this host is $(dpkg --print-architecture)"
    resolve_packages
    if [ -z "$KPKG" ] || [ -z "$KVER" ] || [ -z "$BBVER" ]; then
        # Offline, or no package lists: a finished build from this recipe still does.
        if complete_build && [ "$(head -1 "$OUT/manifest.txt")" = "recipe: $RECIPE" ]; then
            log "cannot resolve $META_PACKAGE/$BUSYBOX_PACKAGE (no package lists?); keeping the build in $OUT"
            exit 0
        fi
        log "cannot resolve $META_PACKAGE and $BUSYBOX_PACKAGE in the package index: run apt-get update first"
        exit 3
    fi
    if complete_build && [ "$(head -3 "$OUT/manifest.txt")" = "$(manifest_head)" ]; then
        log "up to date in $OUT"
        exit 0
    fi

    # Left by a build that was killed (the caller holds a lock on OUT; downloads
    # into the shared cache may be another build's, unless they are old).
    rm -rf "$OUT"/.work-*
    find "$CACHE" -maxdepth 1 -name '.download-*' -mmin +60 -exec rm -rf {} +
    WORK=$(mktemp -d "$OUT/.work-XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    local kdeb bbdeb
    kdeb=$(fetch "$KPKG" "$KVER")
    bbdeb=$(fetch "$BUSYBOX_PACKAGE" "$BBVER")
    log "unpacking $(basename "$kdeb") and $(basename "$bbdeb")"
    dpkg-deb -x "$kdeb" "$WORK/kernel"
    dpkg-deb -x "$bbdeb" "$WORK/busybox"
    RELEASE=$(ls "$WORK/kernel/lib/modules")
    MODSRC=$WORK/kernel/lib/modules/$RELEASE
    BUSYBOX=$WORK/busybox/bin/busybox
    ROOT=$WORK/root
    cp "$WORK/kernel/boot/vmlinuz-$RELEASE" "$WORK/vmlinuz"

    log "initramfs"
    make_initramfs
    log "disk image"
    make_disk

    # The manifest goes last: until it is there, the build is not complete.
    rm -f "$OUT/manifest.txt"
    mv "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/disk.qcow2" "$OUT/"
    {
        manifest_head
        echo "kernel-release: $RELEASE"
        echo "modules: $(tr '\n' ' ' < "$ROOT/etc/modules" | sed 's/ $//')"
        echo "cmdline: $CMDLINE"
    } > "$WORK/manifest.txt"
    mv "$WORK/manifest.txt" "$OUT/manifest.txt"
    log "built $(cd "$OUT" && du -h vmlinuz initrd.img disk.qcow2 | awk '{ printf "%s %s  ", $2, $1 }')"
}

main
