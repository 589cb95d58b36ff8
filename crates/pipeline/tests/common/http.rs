//! A local vendor server for driver downloads, the archives it serves, and a worker
//! allowed to fetch from it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wait_pipeline::Worker;

use super::Env;

/// A one-route HTTP server on 127.0.0.1 answering every request with `status` and
/// `body`; returns the archive's URL and the number of requests so far.
pub fn serve(status: u16, body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    (format!("http://{addr}/drivers/board.zip"), hits)
}

/// An INF of `class` for a device named `device`.
pub fn inf(class: &str, guid: &str, device: &str) -> String {
    format!(
        "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nClass={class}\r\nClassGuid={guid}\r\nProvider=%Mfg%\r\nDriverVer=01/02/2025,1.2.3.4\r\n\r\n[Manufacturer]\r\n%Mfg%=Models,NTamd64\r\n\r\n[Models.NTamd64]\r\n%Dev%=Install,PCI\\VEN_8086&DEV_15F3\r\n\r\n[Strings]\r\nMfg=\"Vendor\"\r\nDev=\"{device}\"\r\n"
    )
}

/// A worker that may download from 127.0.0.1, once, with a short timeout, so that a
/// failing server shows quickly.
pub fn download_worker(env: &Env, name: &str) -> Worker {
    env.quick_worker(name, |config| {
        config.download.allow_private = true;
        config.download.attempts = 1;
        config.download.timeout = Duration::from_secs(5);
    })
}
