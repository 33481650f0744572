//! The `vocabulary!` macro: closed, string-valued enums ("outcomes as data").
//!
//! Every status or deviation mxscan writes to a Parquet column is one of these enums. The macro
//! generates, from one list of `Variant = "snake_case", "description"` entries:
//!
//! * the enum itself (`Copy`, `Eq`, `Ord`, `Hash`), each variant documented with its description;
//! * `ALL` (declaration order, which is also the canonical sort order), `as_str()`,
//!   `description()`;
//! * `Display`, `FromStr` (exact, case-sensitive) and serde `Serialize`/`Deserialize` as the
//!   snake_case string, so JSON and Parquet always carry the same spelling;
//! * the [`Vocab`] trait, so the store, the schema reference and `summary` treat every
//!   vocabulary alike (the position in `ALL` is the Parquet dictionary key).

/// What every closed vocabulary offers, generically.
pub trait Vocab:
    Copy + Eq + Ord + std::hash::Hash + std::fmt::Debug + Send + Sync + 'static
{
    /// The Rust type name (for error messages).
    const NAME: &'static str;
    /// Every value, in canonical order.
    fn all() -> &'static [Self];
    /// The value as written to JSON and Parquet.
    fn as_str(self) -> &'static str;
    /// One-paragraph documentation of the value.
    fn description(self) -> &'static str;
    /// Position in [`Vocab::all`] (the dictionary key in Parquet).
    fn index(self) -> usize {
        Self::all()
            .iter()
            .position(|v| *v == self)
            .expect("all() lists every value")
    }
    /// The value spelled `s`, if any.
    fn parse(s: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.as_str() == s)
    }
}

/// Defines a closed vocabulary enum. See the module documentation.
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $variant:ident = $text:literal, $doc:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $(
                #[doc = $doc]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in canonical (declaration) order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as written to JSON and Parquet (snake_case).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// One-paragraph documentation of this value (the same text as its rustdoc).
            #[must_use]
            pub const fn description(self) -> &'static str {
                match self {
                    $($name::$variant => $doc,)+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::Error::UnknownValue {
                        vocabulary: stringify!($name),
                        value: s.chars().take(64).collect(),
                    }),
                }
            }
        }

        /// Comparison with the spelled word, for tests and checks that restate the
        /// vocabulary (`assert_eq!(row.status, "ok")`).
        impl ::core::cmp::PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::core::cmp::PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl $crate::Vocab for $name {
            const NAME: &'static str = stringify!($name);
            fn all() -> &'static [Self] {
                $name::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn description(self) -> &'static str {
                $name::description(self)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize<'de>>::deserialize(deserializer)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
