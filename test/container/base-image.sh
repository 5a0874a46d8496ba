#!/usr/bin/env bash
# Makes a small Node base image from this machine, for `podman build` where nothing can be
# pulled: the host's node binary and the libraries it links (ldd), npm, and busybox-static
# for a shell and the usual tools. Laid out as the official node images are (node and npm
# under /usr/local), so docker/Dockerfile runs on it unchanged.
#
#   test/container/base-image.sh IMAGE        e.g. localhost/pidpilot-test-base:20.20.2
#
# Needs podman and busybox-static (Debian: apt-get install podman busybox-static).
set -euo pipefail
image=${1:?usage: base-image.sh IMAGE}
node=$(readlink -f "$(command -v node)")
npm_dir=$(readlink -f "$(dirname "$node")/../lib/node_modules/npm")
busybox=$(command -v busybox)
[ -d "$npm_dir" ] || { echo "base-image.sh: npm is not at $npm_dir" >&2; exit 1; }
{ ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic executable' || { echo "base-image.sh: $busybox is not static (apt-get install busybox-static)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/lib/node_modules,etc,root,tmp,run,var,proc,sys,dev}
chmod 1777 "$root/tmp"
ln -s ../run "$root/var/run"

cp "$node" "$root/usr/local/bin/node"
# The libraries node links, at the paths the dynamic linker looks for them.
for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"

tar -C "$root" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV HOME=/root' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "$image"
