//! Starting a child process in a test, with the one retry Wine needs.
//!
//! Wine 8, on a loaded machine, now and then fails to start a child: its
//! `CreateProcessW` returns `ERROR_INTERNAL_ERROR` (1359) when the new process
//! dies in Wine's own start-up, before any of the child's code has run (seen in CI
//! in a licensectl test under Wine). Nothing of the program ran, so starting it
//! again is safe and changes nothing the test asserts. Windows itself does not
//! return 1359 for a good executable, and every other error is reported at once.

use std::io;
use std::process::{Child, Command, ExitStatus, Output};
use std::time::Duration;

/// `ERROR_INTERNAL_ERROR`: what Wine's CreateProcessW says when the child died in start-up.
const WINE_FAILED_START: i32 = 1359;
const ATTEMPTS: u32 = 5;

/// `output`, `status` and `spawn` that retry only Wine's failed start.
pub trait Launch {
    fn launch_output(&mut self) -> Output;
    fn launch_status(&mut self) -> ExitStatus;
    fn launch(&mut self) -> Child;
}

impl Launch for Command {
    fn launch_output(&mut self) -> Output {
        retry(self, Command::output)
    }

    fn launch_status(&mut self) -> ExitStatus {
        retry(self, Command::status)
    }

    fn launch(&mut self) -> Child {
        retry(self, Command::spawn)
    }
}

fn retry<T>(command: &mut Command, start: impl Fn(&mut Command) -> io::Result<T>) -> T {
    let mut attempt = 1;
    loop {
        match start(command) {
            Ok(t) => return t,
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(WINE_FAILED_START) && attempt < ATTEMPTS => {
                eprintln!(
                    "{:?} did not start under Wine ({e}); attempt {attempt} of {ATTEMPTS}",
                    command.get_program()
                );
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("start {:?}: {e}", command.get_program()),
        }
    }
}
