# kite: IKEv2/IPsec road-warrior VPN client.
#   make            build ./kite (wolfSSL built from Debian's source with x86-64 asm, linked statically)
#   make deps       install missing Debian packages (root; no-op when all are present)
#   make check      unit tests (ASan+UBSan) and interop tests against strongSwan; one summary line
#   make demo       local strongSwan gateway in a namespace, connect, traffic, disconnect (root)
#   make fuzz       libFuzzer targets (clang)
#   make WOLFSSL=system   link Debian's libwolfssl instead (for distribution packages)
#   V=1             show commands

PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

CC ?= cc
BUILD := build
WOLFSSL ?= asm
WOLFSSL_PREFIX := $(BUILD)/wolfssl

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wcast-qual -Wsign-compare -Wformat=2 -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags libnl-3.0) \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2
CFLAGS ?=
LDFLAGS ?=

ifeq ($(WOLFSSL),system)
WOLFSSL_CFLAGS := -DKITE_WOLFSSL_SYSTEM
WOLFSSL_LIBS := -lwolfssl
WOLFSSL_DEP :=
else
WOLFSSL_CFLAGS := -I$(WOLFSSL_PREFIX)/include
WOLFSSL_LIBS := $(WOLFSSL_PREFIX)/lib/libwolfssl.a
WOLFSSL_DEP := $(WOLFSSL_PREFIX)/lib/libwolfssl.a
endif

# libnl and inih linked statically; libc dynamically (NSS for getaddrinfo).
STATIC_LIBS := -Wl,-Bstatic -lnl-xfrm-3 -lnl-route-3 -lnl-3 -linih -Wl,-Bdynamic
SYS_LIBS := -lm -lpthread

ALL_CFLAGS = $(BASE_CFLAGS) $(WOLFSSL_CFLAGS) $(CFLAGS) -MMD -MP

SRCS := $(sort $(wildcard src/*.c))
OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(BUILD)/obj/main.o,$(OBJS))

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJS := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(filter-out src/main.c,$(SRCS)))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))

ifeq ($(V),1)
Q :=
else
Q := @
endif

.SECONDARY:
.PHONY: all deps check unit interop demo bench fuzz install deb clean distclean version
all: kite

$(WOLFSSL_PREFIX)/lib/libwolfssl.a: packaging/wolfssl.sh
	$(Q)sh packaging/wolfssl.sh $(WOLFSSL_PREFIX)

$(BUILD)/obj/%.o: src/%.c $(WOLFSSL_DEP)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

kite: $(OBJS) $(WOLFSSL_DEP)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS) $(WOLFSSL_LIBS) $(STATIC_LIBS) $(SYS_LIBS)

$(BUILD)/asan/%.o: src/%.c $(WOLFSSL_DEP)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC-SAN  $<"
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -DKITE_TESTING -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_HELPERS) $(ASAN_OBJS) $(WOLFSSL_DEP)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  TEST-LD $@"
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -DKITE_TESTING -Itests/unit -o $@ $< $(UNIT_HELPERS) \
		$(ASAN_OBJS) $(WOLFSSL_LIBS) $(STATIC_LIBS) -lcmocka $(SYS_LIBS)

deps:
	$(Q)sh packaging/deps.sh

unit: $(UNIT_BINS)

# make check: everything, one summary line at the end (tests/run.sh).
check: deps
	$(Q)$(MAKE) --no-print-directory kite unit
	$(Q)sh tests/run.sh $(UNIT_BINS)

interop: kite
	$(Q)sh tests/run.sh --interop-only

demo: deps
	$(Q)$(MAKE) --no-print-directory kite
	$(Q)bash tests/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory kite
	$(Q)bash tests/bench/bench.sh

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
fuzz: $(WOLFSSL_DEP)
	@mkdir -p $(BUILD)/fuzz
	$(Q)for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		clang $(BASE_CFLAGS) $(WOLFSSL_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		-DKITE_TESTING -DKITE_FUZZING -o $(BUILD)/fuzz/$$n $$f $(filter-out src/main.c,$(SRCS)) \
		$(WOLFSSL_LIBS) $(STATIC_LIBS) $(SYS_LIBS) || exit 1; echo "  FUZZ    $(BUILD)/fuzz/$$n"; done

install: kite
	install -D -m 0755 kite $(DESTDIR)$(BINDIR)/kite
	install -D -m 0644 vpn.ini.example $(DESTDIR)$(PREFIX)/share/doc/kite/vpn.ini.example
	install -D -m 0644 packaging/kite.8 $(DESTDIR)$(MANDIR)/man8/kite.8
	install -D -m 0644 packaging/systemd/kite@.service $(DESTDIR)/lib/systemd/system/kite@.service
	install -D -m 0755 packaging/networkmanager/90-kite $(DESTDIR)$(SYSCONFDIR)/NetworkManager/dispatcher.d/90-kite
	install -D -m 0644 completions/kite.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/kite
	install -D -m 0644 completions/_kite $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_kite
	install -D -m 0644 completions/kite.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/kite.fish
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/kite

# A Debian package of what `make install` installs (dpkg-deb; no build dependencies beyond make deps).
DEB_VERSION := $(shell sed -n 's/.*KITE_VERSION "\(.*\)"/\1/p' src/kite.h)
deb: kite
	rm -rf $(BUILD)/deb && $(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(BUILD)/deb
	mkdir -p $(BUILD)/deb/DEBIAN
	sed -e 's/@VERSION@/$(DEB_VERSION)/' -e 's/@ARCH@/$(shell dpkg --print-architecture)/' \
		packaging/debian/control > $(BUILD)/deb/DEBIAN/control
	dpkg-deb --root-owner-group --build $(BUILD)/deb kite_$(DEB_VERSION)_$(shell dpkg --print-architecture).deb

version: kite
	./kite --version

clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/unit $(BUILD)/fuzz kite

distclean:
	rm -rf $(BUILD) kite

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)
