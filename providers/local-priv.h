/*
 * local-priv.h: what the local provider's command side (local.c) and its
 * supervisor process (local-super.c) share: file names under
 * HOME/local/NAME/ and the grace periods.
 *
 *   rev-N.json       the normalised spec of revision N (a valid spec)
 *   rev-N.meta.json  its directory, model directory and spec hash
 *   desired          "N": the revision the supervisor should serve
 *   secrets.json     0600: the endpoint token and secret env values
 *   state.json       written by the supervisor: pids, ports, phases
 *   logs/            rN-K.log per replica, rN-setup.log, supervisor.log
 */
#ifndef LEPTON_PROVIDERS_LOCAL_PRIV_H
#define LEPTON_PROVIDERS_LOCAL_PRIV_H

#define LOCAL_GRACE_S		10	/* SIGTERM, then SIGKILL after */
#define LOCAL_DRAIN_S		30	/* old revision's connections */
#define LOCAL_PROBE_MS		200	/* between readiness probes */
#define LOCAL_BACKOFF_MAX_MS	10000	/* restart backoff ceiling */

#endif
