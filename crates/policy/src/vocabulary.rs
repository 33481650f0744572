//! The `vocabulary!` macro: closed, string-valued enums ("outcomes as data").
//!
//! Every status or deviation mxscan writes to a Parquet column is one of these enums. The macro
//! generates, from one list of `Variant = "snake_case", "description"` entries:
//!
//! * the enum itself (`Copy`, `Eq`, `Ord`, `Hash`), each variant documented with its description;
//! * `ALL` (declaration order, which is also the canonical sort order), `as_str()`,
//!   `description()`;
//! * `Display`, `FromStr` (exact, case-sensitive) and serde `Serialize`/`Deserialize` as the
//!   snake_case string, so JSON and Parquet always carry the same spelling.

/// Defines a closed vocabulary enum. See the module documentation.
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

pub(crate) use vocabulary;
