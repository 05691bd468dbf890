/* replay.h - `zimbridge replay`: select dead-letter records and publish
 * them back to their source topic, resumably and exactly once. */
#ifndef ZB_REPLAY_H
#define ZB_REPLAY_H

/* argv[0] is "replay". Returns the exit status: 0 all selected records
 * replayed, 1 some skipped, 2 usage or configuration error, 3 a Kafka
 * error stopped it. */
int replay_main(int argc, char **argv);

#endif
