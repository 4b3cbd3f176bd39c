#!/usr/bin/env perl
# Print the traces in OTLP/JSON files (tracestub trace --otlp-file, one request per line) as
# trees: each span as "service: name (attributes) duration", children indented under their
# parent, and for a span with a link the span it links to. Several files (one per tracer)
# are joined by their ids, as a collector would. Usage: otlp_tree.pl FILE...
use strict;
use warnings;
use JSON::PP;

my (%span, %kids);
for my $file (@ARGV) {
    open my $fh, '<', $file or die "otlp_tree: $file: $!\n";
    while (my $line = <$fh>) {
        next if $line !~ /\S/;
        my $req = decode_json($line);
        for my $rs (@{ $req->{resourceSpans} // [] }) {
            my %res = map { $_->{key} => (values %{ $_->{value} })[0] } @{ $rs->{resource}{attributes} // [] };
            for my $sp (map { @{ $_->{spans} // [] } } @{ $rs->{scopeSpans} // [] }) {
                $sp->{service} = $res{'service.name'} // '?';
                $span{ $sp->{spanId} } = $sp;
            }
        }
    }
}
for my $sp (values %span) {
    push @{ $kids{ $sp->{parentSpanId} } }, $sp if $sp->{parentSpanId} && $span{ $sp->{parentSpanId} };
}

sub label {
    my ($sp) = @_;
    my @a;
    for my $kv (@{ $sp->{attributes} // [] }) {
        my ($what, $name) = $kv->{key} =~ /^(arg|ret)\.(.*)$/ or next;
        my $v = (values %{ $kv->{value} })[0];
        $v = "\"$v\"" if exists $kv->{value}{stringValue} && $v !~ /^0x[0-9a-f]+$/;
        push @a, ($what eq 'ret' ? '= ' : $name =~ /^\d+$/ ? "arg$name=" : "$name=") . $v;
    }
    my %peer = map { $_->{key} => (values %{ $_->{value} })[0] } grep { $_->{key} =~ /^net\./ } @{ $sp->{attributes} // [] };
    my $dur = ($sp->{endTimeUnixNano} - $sp->{startTimeUnixNano}) / 1000;
    my $kind = { 2 => ' [server]', 3 => ' [client]' }->{ $sp->{kind} // 1 } // '';
    my $args = @a ? '(' . join(', ', grep { !/^= / } @a) . ')' . join('', map { " $_" } grep { /^= / } @a) : '';
    my $peer = $peer{'net.transport'} ? " via $peer{'net.transport'}" : '';
    return sprintf('%s: %s%s%s%s  %.1f us', $sp->{service}, $sp->{name}, $args, $kind, $peer, $dur);
}

sub show {
    my ($sp, $depth) = @_;
    my $link = $sp->{links} && $sp->{links}[0] ? $span{ $sp->{links}[0]{spanId} } : undef;
    print '  ' x $depth, label($sp), "\n";
    print '  ' x ($depth + 1), '(link) made by ', label($link), "\n" if $link;
    show($_, $depth + 1) for sort { $a->{startTimeUnixNano} <=> $b->{startTimeUnixNano} } @{ $kids{ $sp->{spanId} } // [] };
}

my @roots = sort { $a->{startTimeUnixNano} <=> $b->{startTimeUnixNano} }
    grep { !$_->{parentSpanId} || !$span{ $_->{parentSpanId} } } values %span;
my %trace_has_kids = map { $_->{traceId} => 1 } grep { $kids{ $_->{spanId} } } @roots;
for my $r (@roots) {
    next if !$trace_has_kids{ $r->{traceId} } && !$ENV{OTLP_TREE_ALL};    # lone spans: skipped
    print "trace $r->{traceId}\n";
    show($r, 1);
}
