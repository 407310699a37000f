#!/bin/sh
# Build wolfSSL from Debian's newest source package with its x86-64 assembly, as a
# static library under $1 (default build/wolfssl). Debian's binary package is built
# without AES-NI/intelasm and is ~21x slower at AES-GCM; kite links this build instead.
# Cached: does nothing when $1/lib/libwolfssl.a exists and matches the configure line.
set -eu
prefix=$(realpath -m "${1:-build/wolfssl}")
work=$(dirname "$prefix")/wolfssl-src
# Only what kite uses: IKE/ESP ciphers, PRFs, DH/ECDH groups, signatures, X.509, TLS (EAP-TLS),
# MD4/DES for EAP-MSCHAPv2 (RFC 2759 needs them; never used as IKE/ESP algorithms).
conf="--enable-static --disable-shared --disable-examples --disable-crypttests --disable-benchmark
 --enable-aesni --enable-intelasm --enable-sp --enable-sp-asm
 --enable-aesgcm --enable-aescbc --enable-chacha --enable-poly1305
 --enable-sha384 --enable-sha512 --enable-hkdf
 --enable-curve25519 --enable-ed25519 --enable-ecc --enable-dh --enable-rsapss
 --enable-md4 --enable-des3 --enable-certext --enable-altcertchains"
stamp="$prefix/.kite-configure"
if [ -f "$prefix/lib/libwolfssl.a" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$conf" ]; then
	exit 0
fi
say() { printf 'wolfssl: %s\n' "$*" >&2; }
[ "$(uname -m)" = x86_64 ] || { say "not x86-64: use 'make WOLFSSL=system'"; exit 1; }
mkdir -p "$work"
cd "$work"
if ! ls wolfssl_*.dsc >/dev/null 2>&1; then
	if ! apt-get source --download-only wolfssl >/dev/null 2>&1; then
		# No deb-src entry: derive one from the machine's own deb entries.
		[ "$(id -u)" = 0 ] || { say "needs root once to add a deb-src entry (or run 'make deps')"; exit 1; }
		src=/etc/apt/sources.list.d/kite-deb-src.sources
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src"
		elif [ -f /etc/apt/sources.list ]; then
			grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/kite-deb-src.list
		else
			say "no apt sources found to derive a deb-src entry from"; exit 1
		fi
		say "added deb-src entries; apt-get update"
		apt-get update -q >/dev/null
		apt-get source --download-only wolfssl >/dev/null
	fi
fi
dsc=$(ls -v wolfssl_*.dsc | tail -1)
ver=$(basename "$dsc" .dsc | sed 's/^wolfssl_//')
dir="wolfssl-$ver"
[ -d "$dir" ] || dpkg-source -q -x "$dsc" "$dir" >/dev/null 2>&1
cd "$dir"
say "building $ver with x86-64 assembly (once; about a minute)"
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
# shellcheck disable=SC2086
CFLAGS="-O2 -fPIC -DWOLFSSL_PUBLIC_MP -DHAVE_EX_DATA" ./configure -q --prefix="$prefix" $conf >/dev/null
make -s -j"$(nproc)" >/dev/null 2>&1
make -s install >/dev/null
echo "$ver" > "$prefix/.kite-version"
echo "$conf" > "$stamp"
say "installed into $prefix"
