//! Reads the bundled phone number metadata (`data/PhoneNumberMetadata.xml`) with the
//! `phonenumber` crate's own loader at build time and writes it in postcard, the form in
//! which that crate embeds its own `DATABASE`. At run time `value::phone` decodes these
//! bytes the first time a number is read: about 1.4 ms, where reading the XML took about
//! 5.5 ms of a process's first phone number. The build dependency is the very crate (and
//! so the very `Metadata` layout) the library decodes with: Cargo keeps one version of it.

use std::path::Path;

fn main() {
    let xml = "data/PhoneNumberMetadata.xml";
    println!("cargo:rerun-if-changed={xml}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read(xml).expect("the bundled phone metadata is readable");
    let metadata = phonenumber::metadata::loader::load(std::io::Cursor::new(text))
        .expect("the bundled phone metadata loads with the crate's loader");
    let bytes = postcard::to_allocvec(&metadata).expect("the metadata encodes in postcard");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("phone_metadata.postcard"), bytes)
        .expect("OUT_DIR is writable");
}
