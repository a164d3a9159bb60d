//! A stand-in server on loopback: a proxy that must not be used, or a hostile
//! portal whose answers a client must refuse.

use std::sync::{Arc, Mutex};

/// A listener on loopback that records every request head it is sent and answers
/// each with `answer(request head)`, the whole raw HTTP response.
pub struct Capture {
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Capture {
    pub fn start(answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> Capture {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Ok(copy) = stream.try_clone() else { continue };
                let mut reader = BufReader::new(copy);
                let mut head = String::new();
                while reader.read_line(&mut head).unwrap_or(0) > 0 && !head.ends_with("\r\n\r\n") {}
                log.lock().expect("capture log").push(head.clone());
                let mut stream = stream;
                let _ = stream.write_all(&answer(&head));
            }
        });
        Capture { url, seen }
    }

    /// A server that answers every request with `status` and `body`.
    pub fn answering(status: &'static str, content_type: &'static str, body: String) -> Capture {
        Capture::start(move |_| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("capture log").clone()
    }
}
