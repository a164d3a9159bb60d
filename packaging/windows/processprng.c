/* Test aid only, never shipped: Wine 8's bcryptprimitives.dll lacks ProcessPrng,
 * which Rust's std imports on Windows, so every Rust program would exit at load
 * (code 53, nothing printed). This DLL takes its place in the Wine prefix and
 * forwards ProcessPrng to BCryptGenRandom with the system RNG. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved) {
    (void)h; (void)reason; (void)reserved;
    return TRUE;
}
