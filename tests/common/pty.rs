//! A pseudo-terminal for a child's stdin, as a user's terminal is: what prompt mode reads
//! ENTER from.

use std::fs::File;

/// A pseudo-terminal: the child gets the slave side as stdin; we write to the master.
/// The terminal's size: tall and wide enough that nothing a test prints scrolls or wraps.
pub const ROWS: u16 = 400;
pub const COLS: u16 = 200;

pub struct Pty {
    pub master: File,
    pub slave: Option<File>,
}

impl Pty {
    pub fn open() -> Pty {
        use std::os::fd::FromRawFd;
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: ROWS,
            ws_col: COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two new fds into the given ints; the other pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both fds were just opened and are owned by nothing else.
        unsafe {
            Pty {
                master: File::from_raw_fd(master),
                slave: Some(File::from_raw_fd(slave)),
            }
        }
    }
}
