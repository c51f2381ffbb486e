//! How Linux numbers ioctl requests: `_IOC(dir, type, nr, size)` packs the
//! direction, the size of the argument, a type letter and a number. The
//! field widths and direction values depend on the architecture
//! (`arch.rs` picks the layout); this module only encodes, so both layouts
//! are tested on any machine.

/// The bit layout of ioctl request numbers on one family of architectures.
#[derive(Clone, Copy, Debug)]
pub struct IocLayout {
    size_bits: u32,
    read: u32,
    write: u32,
}

/// `<asm-generic/ioctl.h>`: x86, arm, aarch64, riscv, s390, loongarch. The
/// direction takes the 2 bits above the 14-bit size.
// Each machine builds with one layout (arch.rs); the tests check both.
#[allow(dead_code)]
pub const ASM_GENERIC: IocLayout = IocLayout {
    size_bits: 14,
    read: 2,
    write: 1,
};

/// powerpc, mips and sparc: a 13-bit size and 3 direction bits above it
/// (where "none" is 1 rather than 0; the crate makes no such request).
#[allow(dead_code)]
pub const THREE_DIRECTION_BITS: IocLayout = IocLayout {
    size_bits: 13,
    read: 2,
    write: 4,
};

const NR_BITS: u32 = 8;
const TYPE_BITS: u32 = 8;

impl IocLayout {
    /// `_IOC(dir, ty, nr, size)`. A size that does not fit the size field
    /// panics, which in a `const` is a compile error.
    const fn encode(&self, dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
        assert!(
            size < (1 << self.size_bits),
            "ioctl argument too large for the size field"
        );
        let size_shift = NR_BITS + TYPE_BITS;
        let dir_shift = size_shift + self.size_bits;
        (dir << dir_shift) | ((size as u32) << size_shift) | ((ty as u32) << NR_BITS) | nr as u32
    }

    /// `_IOR`: the kernel writes the argument.
    pub const fn ior(&self, ty: u8, nr: u8, size: usize) -> u32 {
        self.encode(self.read, ty, nr, size)
    }

    /// `_IOWR`: the kernel reads and writes the argument.
    pub const fn iowr(&self, ty: u8, nr: u8, size: usize) -> u32 {
        self.encode(self.read | self.write, ty, nr, size)
    }

    /// `_IOW`: the kernel reads the argument. No request we make is one; the
    /// tests use it to check the direction values.
    #[cfg(test)]
    const fn iow(&self, ty: u8, nr: u8, size: usize) -> u32 {
        self.encode(self.write, ty, nr, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values as the kernel headers compute them.
    const INT: usize = 4;
    const WATCHDOG_INFO: usize = 40;

    #[test]
    fn asm_generic_matches_linux_headers() {
        let l = ASM_GENERIC;
        assert_eq!(l.ior(b'W', 0, WATCHDOG_INFO), 0x8028_5700); // WDIOC_GETSUPPORT
        assert_eq!(l.ior(b'W', 5, INT), 0x8004_5705); // WDIOC_KEEPALIVE
        assert_eq!(l.iowr(b'W', 6, INT), 0xC004_5706); // WDIOC_SETTIMEOUT
        assert_eq!(l.ior(b'W', 7, INT), 0x8004_5707); // WDIOC_GETTIMEOUT
        assert_eq!(l.iow(b'T', 0x31, INT), 0x4004_5431); // TIOCSPTLCK
        assert_eq!(l.ior(0x12, 114, 8), 0x8008_1272); // BLKGETSIZE64
    }

    #[test]
    fn powerpc_mips_sparc_match_linux_headers() {
        let l = THREE_DIRECTION_BITS;
        assert_eq!(l.ior(b'W', 0, WATCHDOG_INFO), 0x4028_5700);
        assert_eq!(l.ior(b'W', 5, INT), 0x4004_5705);
        assert_eq!(l.iowr(b'W', 6, INT), 0xC004_5706);
        assert_eq!(l.ior(b'W', 7, INT), 0x4004_5707);
        assert_eq!(l.iow(b'T', 0x31, INT), 0x8004_5431);
        assert_eq!(l.ior(0x12, 114, 8), 0x4008_1272);
    }

    #[test]
    #[should_panic(expected = "too large")]
    fn a_size_beyond_the_field_is_refused() {
        THREE_DIRECTION_BITS.ior(b'W', 0, 1 << 13);
    }
}
