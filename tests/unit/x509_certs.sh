#!/bin/sh
# x509_certs.sh DIR: the certificates, keys and signatures test_x509 checks, made
# with the OpenSSL command line (openssl req + openssl ca, for exact dates and
# extensions). Run by test_x509's group setup into a fresh temporary directory.
#
#   root_rsa   RSA-2048 root "C=CH, O=kite, CN=kite Test Root RSA"
#   root_ec    P-384 root; int_ec: P-256 intermediate under it with pathlen 0
#   gw_rsa     RSA-2048 gateway under root_rsa: SAN DNS gw.kite.test, IP 192.0.2.1,
#              IP 2001:db8::1, email gw@kite.test; EKU serverAuth; KU digitalSignature
#   gw_ec      P-256 gateway under int_ec (EKU serverAuth + ikeIntermediate)
#   gw_p384    P-384 gateway under root_ec (no KU, no EKU); gw_ed: Ed25519 under root_ec
#   expired, future, eku_client, eku_ipsec, ku_keyenc, wrong_san, no_san, weak_ee,
#   sha1, pss, crit_ext, p521_ee, under_pathlen, under_noca, under_noks, nc_in,
#   nc_out, other_gw (under root_other, not trusted), self_gw, weak_gw (under a
#   RSA-1024 root), deep1..deep4 + deep_ok (4 below the root) + deep_bad (5 below)
set -eu
d=$1
mkdir -p "$d"
cd "$d"
mkdir -p newcerts
: > index.txt
echo 1000 > serial

cat > ca.cnf <<'EOF'
[ ca ]
default_ca = kiteca
[ kiteca ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = any
preserve = yes
unique_subject = no
email_in_dn = no
copy_extensions = none
default_days = 3650
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
EOF

cat > ext.cnf <<'EOF'
[ root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ inter0 ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ inter ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ inter_noks ]
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature
authorityKeyIdentifier = keyid
[ nc_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical, permitted;DNS:kite.test, permitted;IP:192.0.2.0/255.255.255.0, excluded;DNS:bad.kite.test
[ gw ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:gw.kite.test, IP:192.0.2.1, IP:2001:db8::1, email:gw@kite.test
authorityKeyIdentifier = keyid
[ gw_ike ]
extendedKeyUsage = serverAuth, 1.3.6.1.5.5.8.2.2
subjectAltName = DNS:gw.kite.test
authorityKeyIdentifier = keyid
[ gw_plain ]
subjectAltName = DNS:gw.kite.test
[ eku_client ]
extendedKeyUsage = clientAuth
subjectAltName = DNS:gw.kite.test
[ eku_ipsec ]
extendedKeyUsage = 1.3.6.1.5.5.7.3.17
subjectAltName = DNS:gw.kite.test
[ ku_keyenc ]
keyUsage = critical, keyEncipherment
subjectAltName = DNS:gw.kite.test
[ wrong_san ]
subjectAltName = DNS:other.example
[ no_san ]
basicConstraints = CA:false
[ crit_ext ]
subjectAltName = DNS:gw.kite.test
1.2.3.4.5 = critical, ASN1:NULL
[ nc_in ]
subjectAltName = DNS:gw.kite.test, IP:192.0.2.7
[ nc_out ]
subjectAltName = DNS:gw.bad.kite.test
[ client ]
extendedKeyUsage = clientAuth
subjectAltName = email:alice@kite.test
EOF

key() { # key FILE rsa BITS | ec CURVE | ed
	case $2 in
	rsa) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" -out "$1" ;;
	ec) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$3" -out "$1" ;;
	ed) openssl genpkey -algorithm ED25519 -out "$1" ;;
	esac
	chmod 600 "$1"
}

# cert NAME KEY SUBJECT ISSUER(NAME|self) EXTENSIONS [openssl ca options]
cert() {
	n=$1 k=$2 s=$3 i=$4 x=$5
	shift 5
	openssl req -new -config ca.cnf -key "$k" -subj "$s" -out "$n.csr"
	if [ "$i" = self ]; then
		openssl ca -batch -config ca.cnf -selfsign -keyfile "$k" -in "$n.csr" \
			-out "$n.crt" -extfile ext.cnf -extensions "$x" -notext "$@"
	else
		openssl ca -batch -config ca.cnf -cert "$i.crt" -keyfile "$i.key" -in "$n.csr" \
			-out "$n.crt" -extfile ext.cnf -extensions "$x" -notext "$@"
	fi
}

key root_rsa.key rsa 2048
key root_ec.key ec P-384
key int_ec.key ec P-256
key gw_rsa.key rsa 2048
key gw_ec.key ec P-256
key gw_p384.key ec P-384
key gw_ed.key ed
key weak.key rsa 1024
key p521.key ec P-521
key root_other.key rsa 2048
key root_nc.key ec P-256
key root_weak.key rsa 1024
key ca2.key ec P-256
for i in 1 2 3 4; do key deep$i.key ec P-256; done
key noks.key ec P-256

cert root_rsa root_rsa.key "/C=CH/O=kite/CN=kite Test Root RSA" self root
cert root_ec root_ec.key "/C=CH/O=kite/CN=kite Test Root EC" self root
cert int_ec int_ec.key "/C=CH/O=kite/CN=kite Intermediate EC" root_ec inter0
cert root_other root_other.key "/C=CH/O=kite/CN=kite Other Root" self root
cert root_nc root_nc.key "/C=CH/O=kite/CN=kite Constrained Root" self nc_root
cert root_weak root_weak.key "/C=CH/O=kite/CN=kite Weak Root" self root

cert gw_rsa gw_rsa.key "/C=CH/O=kite/CN=gw.kite.test" root_rsa gw
cert gw_ec gw_ec.key "/C=CH/O=kite/CN=gw.kite.test" int_ec gw_ike
cert gw_p384 gw_p384.key "/C=CH/O=kite/CN=gw384.kite.test" root_ec gw_plain
cert gw_ed gw_ed.key "/C=CH/O=kite/CN=gwed.kite.test" root_ec gw_plain
cert expired gw_rsa.key "/C=CH/O=kite/CN=expired.kite.test" root_rsa gw \
	-startdate 20200101000000Z -enddate 20210101000000Z
cert future gw_rsa.key "/C=CH/O=kite/CN=future.kite.test" root_rsa gw \
	-startdate 20990101000000Z -enddate 21000101000000Z
cert eku_client gw_ec.key "/CN=client-eku.kite.test" root_rsa eku_client
cert eku_ipsec gw_ec.key "/CN=ipsec-eku.kite.test" root_rsa eku_ipsec
cert ku_keyenc gw_rsa.key "/CN=keyenc.kite.test" root_rsa ku_keyenc
cert wrong_san gw_ec.key "/CN=gw.kite.test" root_rsa wrong_san
cert no_san gw_ec.key "/C=CH/O=kite/CN=gw.kite.test" root_rsa no_san
cert weak_ee weak.key "/CN=weak.kite.test" root_rsa gw_plain
cert sha1 gw_ec.key "/CN=sha1.kite.test" root_rsa gw_plain -md sha1
cert pss gw_ec.key "/CN=pss.kite.test" root_rsa gw_plain \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256
cert crit_ext gw_ec.key "/CN=crit.kite.test" root_rsa crit_ext
cert p521_ee p521.key "/CN=p521.kite.test" root_ec gw_plain
cert other_gw gw_ec.key "/CN=gw.kite.test" root_other gw_plain
cert self_gw gw_ec.key "/CN=self.kite.test" self gw_plain
cert weak_gw gw_ec.key "/CN=gw.kite.test" root_weak gw_plain
cert nc_in gw_ec.key "/C=CH/O=kite/CN=in.kite.test" root_nc nc_in
cert nc_out gw_ec.key "/C=CH/O=kite/CN=out.kite.test" root_nc nc_out
# pathlen 0 on int_ec: a CA under it may not issue
cert ca2 ca2.key "/CN=kite Second Level" int_ec inter
cert under_pathlen gw_ec.key "/CN=pathlen.kite.test" ca2 gw_plain
# an end entity (gw_rsa, CA:false) posing as an issuer; a CA without keyCertSign
cert under_noca gw_ec.key "/CN=noca.kite.test" gw_rsa gw_plain
cert noks noks.key "/CN=kite No KeyCertSign" root_rsa inter_noks
cert under_noks gw_ec.key "/CN=noks.kite.test" noks gw_plain
# depth: root_rsa > deep1 > deep2 > deep3 > deep_ok (4 below), and > deep4 > deep_bad (5)
cert deep1 deep1.key "/CN=kite Deep 1" root_rsa inter
cert deep2 deep2.key "/CN=kite Deep 2" deep1 inter
cert deep3 deep3.key "/CN=kite Deep 3" deep2 inter
cert deep4 deep4.key "/CN=kite Deep 4" deep3 inter
cert deep_ok gw_ec.key "/CN=deep-ok.kite.test" deep3 gw_plain
cert deep_bad gw_ec.key "/CN=deep-bad.kite.test" deep4 gw_plain
cert client gw_ec.key "/C=CH/O=kite/CN=alice" root_ec client

# CERTREQ hashes: SHA-1 of each root's SubjectPublicKeyInfo
for r in root_rsa root_ec; do
	openssl x509 -in "$r.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
		openssl dgst -sha1 -binary > "$r.keyhash"
done
openssl x509 -in gw_rsa.crt -outform DER -out gw_rsa.der
openssl x509 -in gw_rsa.crt -subject -noout -nameopt RFC2253 > gw_rsa.subject

# AUTH signatures made by OpenSSL over a fixed message
printf 'kite signed octets: RealMessage2 | NonceIData | prf(SK_pr, IDr)' > msg.bin
openssl dgst -sha256 -sign gw_ec.key -out sig_ec256.der msg.bin
openssl dgst -sha384 -sign gw_p384.key -out sig_ec384.der msg.bin
openssl dgst -sha512 -sign gw_ec.key -out sig_ec256_sha512.der msg.bin
openssl dgst -sha256 -sign gw_rsa.key -out sig_rsa_pkcs1.bin msg.bin
openssl dgst -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 \
	-sigopt rsa_mgf1_md:sha384 -sign gw_rsa.key -out sig_rsa_pss384.bin msg.bin
openssl pkeyutl -sign -inkey gw_ed.key -rawin -in msg.bin -out sig_ed.bin

# key forms
openssl rsa -in gw_rsa.key -traditional -out gw_rsa_pkcs1.pem
openssl rsa -in gw_rsa.key -traditional -outform DER -out gw_rsa_pkcs1.der
openssl ec -in gw_ec.key -out gw_ec_sec1.pem
openssl pkey -in gw_ec.key -outform DER -out gw_ec_pkcs8.der
openssl ecparam -name prime256v1 -out ecparams.pem
cat ecparams.pem gw_ec_sec1.pem > gw_ec_params_first.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:kite-secret -in gw_ec.key -out gw_ec_enc.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:kite-secret -in gw_rsa.key -outform DER \
	-out gw_rsa_enc.der
openssl rsa -in gw_rsa.key -traditional -aes256 -passout pass:x -out gw_rsa_legacy.pem
cp gw_ec.key gw_ec_open.key
chmod 644 gw_ec_open.key
chmod 600 ./*.pem ./*.der

# trust anchor directory: two roots, a symlink, and a file that is not a certificate
mkdir -p cadir
cp root_rsa.crt cadir/a.pem
cp root_ec.crt cadir/b.pem
ln -sf a.pem cadir/0001abcd.0
echo "not a certificate" > cadir/README
cat root_rsa.crt root_ec.crt > bundle.pem
echo ok > done
