/* SPDX-License-Identifier: MIT */
/*
 * interrupt.c - Ctrl-C. The first SIGINT or SIGTERM only sets a flag: the
 * measuring executor stops forwarding work, the runner starts nothing new,
 * and the run writes what it has (marked interrupted) before exiting 130. A
 * second signal ends the process at once.
 */
#include <signal.h>
#include <string.h>

#include "iovabench.h"

_Atomic int ib_interrupted;

static void on_signal(int sig)
{
	atomic_store_explicit(&ib_interrupted, sig, memory_order_relaxed);
	signal(sig, SIG_DFL); /* the next one is not caught */
}

void ib_interrupt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
