// Helpers shared by rules with #load "../lib/networks.csx".

// Networks never allowed in (documentation ranges here: replace them with your own).
static readonly IPNetwork[] Blocked =
[
    IPNetwork.Parse("192.0.2.0/24"),
    IPNetwork.Parse("198.51.100.0/24"),
    IPNetwork.Parse("2001:db8::/32"),
];
