/*
 * main: the command line (design.md 3). A static table of subcommands, as in
 * wireguard-tools' wg.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "kite.h"
#include "log.h"

struct globals {
	const char *config;
	int level;
};

struct command {
	const char *name;
	int (*fn)(struct globals *g, int argc, char **argv);
	const char *usage;
	const char *help;
};

static int cmd_connect(struct globals *g, int argc, char **argv);
static int cmd_help(struct globals *g, int argc, char **argv);

static const struct command commands[] = {
	{ "connect", cmd_connect, "connect [NAME] [--foreground]",
	  "Connect the profile NAME (default: the only profile in the config file).\n"
	  "  --foreground  stay attached and log to stderr (required in this version)\n"
	  "Exit status: 0 connected and later closed cleanly, 1 connection or\n"
	  "authentication failure, 2 usage or configuration error, 3 not permitted." },
	{ "help", cmd_help, "help [COMMAND]", "Show help for kite or for one command." },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: kite [-c FILE] [-v|-q] COMMAND [ARGS]\n"
		   "       kite --version\n\n"
		   "IKEv2/IPsec road-warrior VPN client.\n\n"
		   "Options:\n"
		   "  -c FILE    configuration file (default %s)\n"
		   "  -v         verbose (debug) logging\n"
		   "  -q         quiet: errors only\n\n"
		   "Commands:\n", KITE_DEFAULT_CONFIG);
	for (size_t i = 0; i < KITE_ARRAY_SIZE(commands); i++)
		fprintf(f, "  kite %s\n", commands[i].usage);
	fprintf(f, "\nSee 'kite help COMMAND' and vpn.ini.example.\n");
}

static int cmd_help(struct globals *g, int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return KITE_EXIT_OK;
	}
	for (size_t i = 0; i < KITE_ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i].name, argv[1])) {
			printf("Usage: kite [-c FILE] %s\n\n%s\n", commands[i].usage, commands[i].help);
			return KITE_EXIT_OK;
		}
	}
	fprintf(stderr, "kite: error: no command '%s'; see 'kite help'\n", argv[1]);
	return KITE_EXIT_USAGE;
}

static int cmd_connect(struct globals *g, int argc, char **argv)
{
	struct kite_config cfg;
	struct daemon_opts o = { 0, g->level };
	const struct kite_profile *prof;
	const char *name = NULL;
	char err[512];
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--foreground") || !strcmp(argv[i], "-f")) {
			o.foreground = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "kite: error: unknown option '%s' for connect; see 'kite help connect'\n",
				argv[i]);
			return KITE_EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else {
			fprintf(stderr, "kite: error: connect takes one profile name; see 'kite help connect'\n");
			return KITE_EXIT_USAGE;
		}
	}
	if (!o.foreground) {
		fprintf(stderr, "kite: error: this version runs connections only in the foreground: "
				"use 'kite connect %s--foreground'\n", name ? "NAME " : "");
		return KITE_EXIT_USAGE;
	}
	memset(&cfg, 0, sizeof(cfg));
	if ((r = config_load(&cfg, g->config, err, sizeof(err))) != 0) {
		fprintf(stderr, "kite: error: %s\n", err);
		config_free(&cfg);
		return KITE_EXIT_USAGE;
	}
	prof = config_profile(&cfg, name, err, sizeof(err));
	if (!prof) {
		fprintf(stderr, "kite: error: %s\n", err);
		config_free(&cfg);
		return KITE_EXIT_USAGE;
	}
	log_init("kite", !o.foreground, g->level);
	r = daemon_run(prof, &o);
	config_free(&cfg);
	return r;
}

int main(int argc, char **argv)
{
	struct globals g = { KITE_DEFAULT_CONFIG, LOG_LVL_INFO };
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("kite %s\n%s\n", KITE_VERSION, crypto_version());
			return KITE_EXIT_OK;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return KITE_EXIT_OK;
		} else if (!strcmp(argv[i], "-c")) {
			if (++i >= argc) {
				fprintf(stderr, "kite: error: -c needs a file name\n");
				return KITE_EXIT_USAGE;
			}
			g.config = argv[i];
		} else if (!strcmp(argv[i], "-v")) {
			g.level = LOG_LVL_DEBUG;
		} else if (!strcmp(argv[i], "-q")) {
			g.level = LOG_LVL_ERR;
		} else {
			fprintf(stderr, "kite: error: unknown option '%s'; see 'kite help'\n", argv[i]);
			return KITE_EXIT_USAGE;
		}
	}
	log_init("kite", 0, g.level);
	if (i >= argc) {
		usage(stderr);
		return KITE_EXIT_USAGE;
	}
	for (size_t k = 0; k < KITE_ARRAY_SIZE(commands); k++)
		if (!strcmp(commands[k].name, argv[i]))
			return commands[k].fn(&g, argc - i, argv + i);
	fprintf(stderr, "kite: error: unknown command '%s'; see 'kite help'\n", argv[i]);
	return KITE_EXIT_USAGE;
}
