# SPDX-License-Identifier: Apache-2.0
#
# tests/lib/child_probe.pl - what a command p11enroll starts can see.
# `require` it in the command (perl: a shell would hold descriptors of its
# own), then child_probe(DIR, NAME) writes DIR/NAME.env (its environment,
# one VAR=value a line), DIR/NAME.fds (its open descriptors, space
# separated) and DIR/NAME.read (what the descriptors above 2 give when
# opened again from the start through /proc: how a PIN was read back).
use strict;
use warnings;
use POSIX ();

sub child_probe {
    my ($dir, $name) = @_;
    my (@open, $read);
    open(my $env, '>', "$dir/$name.env") or die;
    print $env "$_=$ENV{$_}\n" for sort keys %ENV;
    close($env);
    for my $fd (0 .. 1023) {
        my $d = POSIX::dup($fd);
        next unless defined $d;
        POSIX::close($d);
        push @open, $fd;
        next if $fd < 3;
        if (open(my $h, '<', "/proc/self/fd/$fd")) {
            local $/;
            $read .= <$h> // '';
        }
    }
    open(my $f, '>', "$dir/$name.fds") or die;
    print $f join(' ', @open), "\n";
    close($f);
    open(my $r, '>', "$dir/$name.read") or die;
    print $r $read // '';
    close($r);
}

1;
