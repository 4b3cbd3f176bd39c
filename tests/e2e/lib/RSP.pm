package RSP;
# A minimal raw gdb-remote client for fault-injection tests: framing, acks, checksums.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

sub connect {
    my ($class, $port) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
        or die "connect $port: $!";
    binmode $sock;
    return bless { sock => $sock, buf => '', ack => 1 }, $class;
}

sub frame {
    my ($payload) = @_;
    my $sum = 0;
    $sum = ($sum + ord $_) & 0xff for split //, $payload;
    return sprintf('$%s#%02x', $payload, $sum);
}

sub raw { my ($s, $bytes) = @_; $s->{sock}->syswrite($bytes); }

# Read until a whole packet is in the buffer; returns its payload, or undef on timeout/EOF.
# Acks ('+'/'-') seen on the way are counted in $s->{acks}/$s->{nacks}.
sub read_packet {
    my ($s, $secs) = @_;
    my $sel = IO::Select->new($s->{sock});
    my $deadline = time + ($secs // 10);
    for (;;) {
        $s->{buf} =~ s/^([+-])// and do { $1 eq '+' ? $s->{acks}++ : $s->{nacks}++; redo };
        if ($s->{buf} =~ s/^\$([^#]*)#([0-9a-f]{2})//s) {
            my $p = $1;
            $s->raw('+') if $s->{ack};
            return $p;
        }
        my $left = $deadline - time;
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = $s->{sock}->sysread(my $chunk, 65536);
        return undef if !$n;
        $s->{buf} .= $chunk;
    }
}

# Send a packet, return the reply payload.
sub ask {
    my ($s, $payload, $secs) = @_;
    $s->raw(frame($payload));
    return $s->read_packet($secs);
}

sub close { my ($s) = @_; close $s->{sock}; }

1;
