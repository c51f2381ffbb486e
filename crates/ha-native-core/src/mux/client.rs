//! The client side of the protocol, used by the CRM and LRM through the
//! addon: connect, prove liveness, query the time left, close.

use super::protocol::{parse_status, MAGIC_CLOSE, STATUS_QUERY, UPDATE};
use super::state::ClientStatus;
use std::io::{self, BufRead, BufReader, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a status query waits for the mux's answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// A write to a healthy mux never blocks; one that does means the mux hangs.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct MuxClient {
    path: PathBuf,
    reader: BufReader<UnixStream>,
}

fn context(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("watchdog-mux at {}: {what}: {e}", path.display()),
    )
}

impl MuxClient {
    /// Connecting starts this client's expiry at the mux: from here on it
    /// must update before the client timeout or the node is reset.
    pub fn connect(path: &Path) -> io::Result<MuxClient> {
        let stream = UnixStream::connect(path)
            .map_err(|e| context(path, "cannot connect (is watchdog-mux running?)", e))?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        stream.set_read_timeout(Some(QUERY_TIMEOUT))?;
        Ok(MuxClient {
            path: path.to_path_buf(),
            reader: BufReader::new(stream),
        })
    }

    fn write(&mut self, byte: u8, what: &str) -> io::Result<()> {
        self.reader
            .get_mut()
            .write_all(&[byte])
            .map_err(|e| context(&self.path, what, e))
    }

    pub fn update(&mut self) -> io::Result<()> {
        self.write(UPDATE, "update failed")
    }

    /// The mux's view of this client: time left before it expires, and
    /// whether the device is still being fed.
    pub fn status(&mut self) -> io::Result<ClientStatus> {
        self.write(STATUS_QUERY, "status query failed")?;
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Err(context(
                &self.path,
                "status query",
                io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by the mux"),
            )),
            Ok(_) => parse_status(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(context(
                    &self.path,
                    "no answer to the status query (the original watchdog-mux does not support it)",
                    e,
                ))
            }
            Err(e) => Err(context(&self.path, "status query failed", e)),
        }
    }

    /// `clean`: send the magic close first, so the mux stops watching this
    /// client. Without it the mux stops feeding and the node resets: only
    /// close cleanly when nothing on this node needs fencing protection.
    pub fn close(mut self, clean: bool) -> io::Result<()> {
        if clean {
            self.write(MAGIC_CLOSE, "magic close failed")?;
        }
        let _ = self.reader.get_ref().shutdown(Shutdown::Both);
        Ok(())
    }
}
