// Where watchdog-mux listens, as in the reference implementation. A module
// of its own, so that a command line can name it without loading the addon's
// loader.

export const DEFAULT_WATCHDOG_MUX_SOCKET = '/run/watchdog-mux.sock';
