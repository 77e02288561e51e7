/** The emulator's defaults, apart from its implementation so that `upydev --help` does not load it. */
export const DEFAULT_WEBREPL_PORT = 8266;
/**
 * 4 MiB: a verified put keeps the old file until the new one is checked, so replacing a 1 MiB file needs room
 * for two, beside the device scripts (and the bench's 1 MiB runs need exactly that).
 */
export const DEFAULT_FLASH_SIZE = 4 * 1024 * 1024;
