/* liblzma's mythread.h wants sigprocmask() for single-threaded builds; a
 * wasm reactor has no signals, so masking them is a no-op. */
#ifndef NIX_IMAGER_COMPAT_SIGNAL_H
#define NIX_IMAGER_COMPAT_SIGNAL_H
typedef unsigned long sigset_t;
static inline int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
	(void)how; (void)set; (void)old;
	return 0;
}
#endif
