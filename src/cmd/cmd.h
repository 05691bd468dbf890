/* cmd.h - zimbridge's subcommands, one file each. main.c dispatches to
 * them and owns the process: signal handlers, and the exit status each
 * returns. argv[0] is the subcommand's name. */
#ifndef ZB_CMD_H
#define ZB_CMD_H

#include <signal.h>

/* `run`: the bridge, until *stop is set (0 after a clean shutdown, 1 on
 * a fatal error, 2 on a usage or configuration error). */
int cmd_run(int argc, char **argv, volatile sig_atomic_t *stop);
/* `replay`: 0 all selected records replayed, 1 some skipped, 2 usage or
 * configuration error, 3 interrupted (*stop) or a Kafka error. */
int cmd_replay(int argc, char **argv, volatile sig_atomic_t *stop);
/* `validate`: 0 all valid, 1 some invalid, 2 usage or I/O error. */
int cmd_validate(int argc, char **argv);
/* `sign`: 0, or 2 on a usage error. */
int cmd_sign(int argc, char **argv);

#endif
